// The training API of @wf/models (environment-neutral part): loss, optimizers, schedules, data batching and the trainer.
export * from './data.js';
export * from './loss.js';
export * from './optim.js';
export * from './schedule.js';
export * from './trainer.js';
