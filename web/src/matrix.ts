import { useQuery } from '@tanstack/react-query';
import { api, type Matrix } from './api';
import { useT } from './i18n';

/** The current matrix, or a stored version of it (incidents keep the version they were opened under). */
export function useMatrix(version?: number) {
  return useQuery({
    queryKey: ['matrix', version ?? 'current'],
    queryFn: () => api<Matrix>('GET', version ? `/matrix/versions/${version}` : '/matrix'),
    staleTime: version ? Infinity : 30_000,
  });
}

/** A category's name in the user's language, from the current matrix (its key when the matrix no longer has it). */
export function useCategoryName(): (key: string) => string {
  const { l } = useT();
  const matrix = useMatrix();
  return (key) => l(matrix.data?.categories.find((c) => c.key === key)?.name) || key;
}
