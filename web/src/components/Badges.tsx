import type { Status } from '../api';
import { useT } from '../i18n';

export function PriorityBadge({ priority }: { priority: string }) {
  return <span className={`badge prio-${priority}`}>{priority}</span>;
}

export function StatusBadge({ status }: { status: Status }) {
  const { t } = useT();
  return <span className={`badge status-${status}`}>{t(`status.${status}`)}</span>;
}
