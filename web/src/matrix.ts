import { useQuery } from '@tanstack/react-query';
import { api, type Matrix } from './api';

/** The current matrix, or a stored version of it (incidents keep the version they were opened under). */
export function useMatrix(version?: number) {
  return useQuery({
    queryKey: ['matrix', version ?? 'current'],
    queryFn: () => api<Matrix>('GET', version ? `/matrix/versions/${version}` : '/matrix'),
    staleTime: version ? Infinity : 30_000,
  });
}
