/**
 * Node-RED's permission check (a user's scope against a permission such as
 * "realvirtual.read"), as its admin API applies it: "*" allows everything, "read" every
 * ".read" permission, "write" every ".write" one, a list any of its entries.
 */
export function allows(scope: unknown, permission: string): boolean {
  if (Array.isArray(scope)) return scope.some((entry) => allows(entry, permission));
  if (scope === '*' || scope === permission) return true;
  if (scope === 'read' || scope === '*.read') return permission.endsWith('.read');
  if (scope === 'write' || scope === '*.write') return permission.endsWith('.write');
  return false;
}

export const READ_PERMISSION = 'realvirtual.read';
export const WRITE_PERMISSION = 'realvirtual.write';
