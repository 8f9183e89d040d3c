import { describe, expect, it } from 'vitest';
import { IncidentJsonCache } from '../../src/http/incident-json-cache.js';
import { incidentOut } from '../../src/http/schemas.js';
import { matrixOf, incidentInput, Timeline } from '../helpers/incident-builders.js';

const T0 = Date.UTC(2026, 10, 2, 9);
const incident = (id: number, seq = 1, title = `Incident ${id}`) => {
  const base = new Timeline(matrixOf(), incidentInput('P3'), T0, id).incident;
  return { ...base, seq, title };
};

describe('IncidentJsonCache', () => {
  it('gives back the JSON of exactly the version it rendered', () => {
    const cache = new IncidentJsonCache(10);
    const v1 = incident(1, 1);
    const json = cache.render(v1);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(incidentOut(v1))));
    expect(cache.get(1, 1)).toBe(json);
    expect(cache.get(1, 2)).toBeUndefined();
    expect(cache.get(2, 1)).toBeUndefined();
  });

  it('keeps the newer version when two readers render different ones', () => {
    const cache = new IncidentJsonCache(10);
    cache.render(incident(1, 3, 'Newer'));
    expect(JSON.parse(cache.render(incident(1, 2, 'Older'))).title).toBe('Older');
    expect(cache.get(1, 2)).toBeUndefined();
    expect(JSON.parse(cache.get(1, 3)!).title).toBe('Newer');
    cache.render(incident(1, 4, 'Newest'));
    expect(cache.get(1, 3)).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('holds at most its capacity, letting the entries stored longest ago go first', () => {
    const cache = new IncidentJsonCache(3);
    for (const id of [1, 2, 3]) cache.render(incident(id));
    cache.render(incident(1, 2)); // stored again: now the most recent
    cache.render(incident(4));
    expect(cache.size).toBe(3);
    expect(cache.get(2, 1)).toBeUndefined();
    expect([cache.get(1, 2), cache.get(3, 1), cache.get(4, 1)].every((j) => j !== undefined)).toBe(true);
  });
});
