export { machineInfo, type MachineInfo } from './machine.js';
