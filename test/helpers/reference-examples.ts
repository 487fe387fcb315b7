/** The JSON examples of the reference's "Wire Protocol v2 Reference", verbatim, by message type. */
export const REFERENCE = {
  init: `{
  "type": "init",
  "version": 2,
  "name": "MyClient"
}`,
  data: `{
  "type": "data",
  "signals": {
    "Sensor1": true,
    "DriveSpeed": 150.5,
    "MotorOn": false,
    "Counter": 42,
    "Status": "Running"
  }
}`,
  import_request: `{
  "type": "import_request",
  "version": 2
}`,
  import_answer: `{
  "type": "import_answer",
  "version": 2,
  "signals": {
    "Sensor1": true,
    "DriveSpeed": 0.0,
    "Counter": 0
  },
  "signalTypes": {
    "Sensor1": "PLCInputBool",
    "DriveSpeed": "PLCInputFloat",
    "Counter": "PLCOutputInt"
  }
}`,
  subscribe: `{
  "type": "subscribe",
  "version": 2,
  "subscribe": ["Sensor1", "DriveSpeed", "Counter"]
}`,
  snapshot: `{
  "type": "snapshot",
  "signals": {
    "Sensor1": true,
    "DriveSpeed": 0.0,
    "Counter": 0
  }
}`,
  config_get: `{
  "type": "config_get",
  "version": 2
}`,
  config_answer: `{
  "type": "config_answer",
  "version": 2,
  "config": {
    "publishIntervalMs": 5,
    "loggingLevel": "Information",
    "browsePaths": [
      { "prefix": "plc/app/Application/sym", "direction": "input", "recursive": true }
    ]
  }
}`,
  config_set: `{
  "type": "config_set",
  "version": 2,
  "config": {
    "publishIntervalMs": 10,
    "loggingLevel": "Debug",
    "browsePaths": [
      { "prefix": "plc/app/Application/sym", "direction": "input", "recursive": true }
    ]
  }
}`,
  config_result: `{
  "type": "config_result",
  "version": 2,
  "success": true,
  "message": "Configuration saved and applied"
}`,
};
