/** The simulator's conveyor scene as a pure model: positions, sensor, counter, settings. */
import assert from 'assert/strict';
import { ConveyorScene, DEFAULT_INPUTS, sceneDeclarations, SCENE_SIGNALS, sceneSettingsOf } from '../../sim/scene';

const RUN = { ...DEFAULT_INPUTS };

describe('sim: conveyor scene', () => {
  it('starts with a free sensor, no parts counted and the drive running', () => {
    const scene = new ConveyorScene();
    assert.deepEqual(scene.outputs(RUN), { Sensor1: false, Counter: 0, DrivePosition: 0, Status: 'Running' });
  });

  it('moves at DriveSpeed mm/s; a part reaches the sensor after spacing - length mm and covers it for its length', () => {
    const scene = new ConveyorScene({ partSpacingMm: 600, partLengthMm: 200 });
    assert.deepEqual(scene.step(1000, RUN), { Sensor1: false, Counter: 0, DrivePosition: 200, Status: 'Running' });
    assert.deepEqual(scene.step(1000, RUN), { Sensor1: true, Counter: 1, DrivePosition: 400, Status: 'Running' });
    assert.deepEqual(scene.step(500, RUN), { Sensor1: true, Counter: 1, DrivePosition: 500, Status: 'Running' });
    assert.deepEqual(scene.step(500, RUN), { Sensor1: false, Counter: 1, DrivePosition: 600, Status: 'Running' });
    assert.deepEqual(scene.step(2000, RUN), { Sensor1: true, Counter: 2, DrivePosition: 1000, Status: 'Running' });
  });

  it('counts every part that passed in one long step, even when the sensor pulse was shorter than the step', () => {
    const scene = new ConveyorScene({ partSpacingMm: 100, partLengthMm: 10 });
    const out = scene.step(1000, { ...RUN, DriveSpeed: 1050 });
    assert.equal(out.Counter, 10); // leading edges at 90, 190, … 990 mm
    assert.equal(out.DrivePosition, 1050);
  });

  it('stands still with MotorOn false or speed 0 (Status "Stopped"), runs backwards without counting', () => {
    const scene = new ConveyorScene();
    scene.step(2000, RUN);
    assert.deepEqual(scene.step(5000, { ...RUN, MotorOn: false }), { Sensor1: true, Counter: 1, DrivePosition: 400, Status: 'Stopped' });
    assert.equal(scene.step(5000, { ...RUN, DriveSpeed: 0 }).Status, 'Stopped');
    const back = scene.step(1500, { ...RUN, DriveSpeed: -200 });
    assert.deepEqual(back, { Sensor1: false, Counter: 1, DrivePosition: 100, Status: 'Running' });
    assert.equal(scene.step(1500, RUN).Counter, 2);
  });

  it('ResetCounter holds Counter at 0 while true', () => {
    const scene = new ConveyorScene({ partSpacingMm: 100, partLengthMm: 50 });
    assert.equal(scene.step(1000, { ...RUN, DriveSpeed: 500 }).Counter, 5);
    assert.equal(scene.step(1000, { ...RUN, DriveSpeed: 500, ResetCounter: true }).Counter, 0);
    assert.equal(scene.step(200, { ...RUN, DriveSpeed: 500 }).Counter, 1);
  });

  it('rejects invalid settings and keeps the old ones', () => {
    const scene = new ConveyorScene();
    assert.throws(() => scene.configure({ partLengthMm: 600 }), /partLengthMm \(600\) must be less than partSpacingMm \(600\)/);
    assert.throws(() => scene.configure({ partSpacingMm: -1 }), /partSpacingMm must be a number > 0/);
    assert.throws(() => scene.configure({ tickMs: 1 }), /tickMs must be a number from 10 to 10000/);
    assert.throws(() => new ConveyorScene({ partSpacingMm: Number.NaN }), RangeError);
    assert.deepEqual(scene.settings, { partSpacingMm: 600, partLengthMm: 200, tickMs: 100 });
    scene.configure({ partSpacingMm: 300, tickMs: 20 });
    assert.deepEqual(scene.settings, { partSpacingMm: 300, partLengthMm: 200, tickMs: 20 });
  });

  it('declares the documented signals: the sim writes the PLCInput ones of a Unity scene and reads the PLCOutput ones', () => {
    for (const signal of SCENE_SIGNALS) {
      assert.equal(signal.unityType, `${signal.direction === 'write' ? 'PLCInput' : 'PLCOutput'}${signal.type}`, signal.name);
    }
    assert.deepEqual(
      sceneDeclarations().map((d) => `${d.name}:${d.type}:${d.direction}`),
      ['Sensor1:Bool:write', 'Counter:Int:write', 'DrivePosition:Float:write', 'Status:Text:write', 'MotorOn:Bool:read', 'DriveSpeed:Float:read', 'ResetCounter:Bool:read'],
    );
    assert.deepEqual(sceneSettingsOf({ publishIntervalMs: 5, tickMs: 50, other: 1 }), { tickMs: 50 });
  });
});
