/** One VREvent of every sendable data type, with edge values: shared by the MinVR3 codec and transport tests. */
import { VREvent } from '../../engine/minvr/events';

export const VREVENT_SAMPLES: readonly VREvent[] = Object.freeze([
  { name: 'MinVR3/Shutdown', type: '' },
  { name: 'MinVR3/DeltaTime', type: 'Single', data: 0.016666 },
  { name: 'Pi', type: 'Single', data: 3.1415927410125732 },
  { name: 'Neg', type: 'Single', data: -1e-300 },
  { name: 'Count', type: 'Int32', data: 42 },
  { name: 'Min', type: 'Int32', data: -2147483648 },
  { name: 'Max', type: 'Int32', data: 2147483647 },
  { name: 'Text', type: 'String', data: 'hello "world"\n\t\\ /' },
  { name: 'Empty', type: 'String', data: '' },
  { name: 'Stick', type: 'Vector2', data: { x: 0.5, y: -0.25 } },
  { name: 'Head/Position', type: 'Vector3', data: { x: 1, y: 1.7, z: -3.25 } },
  { name: 'Color', type: 'Vector4', data: { x: 1, y: 0, z: 0.5, w: 1 } },
  { name: 'Head/Rotation', type: 'Quaternion', data: { x: 0, y: 0.7071067811865476, z: 0, w: 0.7071067811865476 } },
]);
