// The Dawn workaround, tested against a stand-in for Dawn's Node binding (the real one needs a newer
// libstdc++ than this machine has): a device whose `onuncapturederror` setter rejects a JS function the way
// Dawn does. gpu.js's own device acquisition fails on it; the patched one succeeds and is idempotent.
import { afterEach, describe, expect, it } from 'vitest';
import { gpujs } from './gpujs.js';
import { installErrorHandler, patchWebGpuContext } from './webgpu-setup.js';

/** A fake `navigator.gpu` whose device behaves like Dawn's on `onuncapturederror`. */
function dawnLikeGpu() {
  const calls = { requestAdapter: [] as unknown[], requestDevice: [] as unknown[], destroyed: 0 };
  const device = {
    lost: new Promise(() => {}),
    destroy() {
      calls.destroyed++;
    },
    set onuncapturederror(_v: unknown) {
      // what dawn.node's generated setter throws for a function (interop::Interface<EventHandler>)
      throw new TypeError('invalid value to onuncapturederror');
    },
    addEventListener() {
      throw new TypeError('object is not of the correct interface type');
    },
  };
  const adapter = {
    limits: { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28 },
    info: { vendor: 'nvidia', architecture: 'ampere' },
    async requestDevice(desc: unknown) {
      calls.requestDevice.push(desc);
      return device;
    },
  };
  const gpu = {
    async requestAdapter(opts?: unknown) {
      calls.requestAdapter.push(opts);
      return adapter;
    },
  };
  return { gpu, device, adapter, calls };
}

const g = globalThis as { navigator?: unknown };

describe('WebGPU context under Dawn', () => {
  afterEach(() => {
    delete g.navigator;
  });

  it("gpu.js 2.24.1's own acquire fails on a Dawn device; the patched one succeeds", async () => {
    const lib = gpujs();
    const ctx = lib.WebGPUContext!;
    const fake = dawnLikeGpu();
    g.navigator = { gpu: fake.gpu };
    // the cause, as reported on NVIDIA + Dawn: the assignment in src/backend/web-gpu/context.js throws
    await expect(ctx.acquire()).rejects.toThrow(/invalid value to onuncapturederror/);

    patchWebGpuContext(lib);
    patchWebGpuContext(lib); // idempotent
    const context = await ctx.acquire();
    expect(context.device).toBe(fake.device);
    expect(context.adapter).toBe(fake.adapter);
    expect(context.isLost).toBe(false);
    expect(fake.calls.requestAdapter.at(-1)).toEqual({ powerPreference: 'high-performance' });
    // the adapter's full limits are requested, as gpu.js does
    expect(fake.calls.requestDevice.at(-1)).toEqual({
      requiredLimits: { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28 },
    });
    // one shared device
    expect(await ctx.acquire()).toBe(context);
    await ctx.destroy();
    expect(fake.calls.destroyed).toBe(1);
  });

  it('installErrorHandler never throws: property, then addEventListener, then nothing', () => {
    expect(installErrorHandler(dawnLikeGpu().device as never)).toBe(false);
    const browserLike: { onuncapturederror?: unknown; lost: Promise<never>; destroy(): void } = {
      lost: new Promise(() => {}),
      destroy() {},
    };
    expect(installErrorHandler(browserLike)).toBe(true);
    expect(typeof browserLike.onuncapturederror).toBe('function');
  });

  it('a missing navigator.gpu or adapter rejects with a clear message', async () => {
    const lib = gpujs();
    patchWebGpuContext(lib);
    await expect(lib.WebGPUContext!.acquire()).rejects.toThrow(/navigator.gpu is missing/);
    g.navigator = { gpu: { requestAdapter: async () => null } };
    await expect(lib.WebGPUContext!.acquire()).rejects.toThrow(/no adapter is available/);
  });
});
