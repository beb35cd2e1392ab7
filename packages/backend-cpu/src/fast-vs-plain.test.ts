// The fast kernels against the plain reference kernels on random shapes (odd sizes, batch > 1, strided
// inputs): every op with a fast path agrees within float32 rounding. Whole models (every hidden state of
// the reference micro models) are compared in @wf/models' fast-vs-plain.test.ts: the models are built
// there, and this package cannot depend on it (@wf/models depends on this one).
import { compile, F, type Graph, type TensorData, trace } from '@wf/core';
import { expectClose, randomTensor, rng } from '@wf/core/testing';
import { describe, it } from 'vitest';
import { createCpuBackend } from './index.js';

const plain = createCpuBackend({ kernels: 'plain' });
const fast = createCpuBackend();

async function both(graph: Graph, inputs: Record<string, TensorData>, label: string): Promise<void> {
  const [p, f] = await Promise.all([compile(graph, plain), compile(graph, fast)]);
  const a = await p.run(inputs);
  const b = await f.run(inputs);
  for (const k of Object.keys(a)) expectClose(b[k], a[k], 2e-5, `${label}: ${k}`);
}

const r = rng(2026);
const pick = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

describe('fast kernels equal the plain ones', () => {
  it.each(Array.from({ length: 12 }, (_, i) => i))(
    'linear / affine / matmul, random shapes #%i',
    async () => {
      const [b, m, k, n] = [pick(1, 3), pick(1, 37), pick(1, 70), pick(1, 45)];
      const act = (['gelu', 'gelu_tanh', undefined] as const)[pick(0, 2)];
      const x = randomTensor([b, m, k], r);
      const w = randomTensor([n, k], r);
      const bias = randomTensor([n], r);
      const wb = randomTensor([b, k, n], r);
      const g = trace((t) => {
        const xi = t.input('x', [b, m, k]);
        const lin = F.linear(xi, t.constant(w), t.constant(bias), act);
        const aff = F.affine(xi, t.input('wb', [b, k, n]), t.constant(bias), act);
        const x2 = t.input('x2', [b, n, m]);
        const mm = F.matmul(F.transpose(xi), F.transpose(x2));
        const mmT = F.matmul(xi, x2, { transA: true, transB: true });
        // a dense stack of A rows against one shared B (flattened into one product), B transposed too
        const shared = F.matmul(F.reshape(xi, [b, 1, m, k]), t.input('w2', [k, n]));
        const sharedT = F.matmul(xi, t.input('w2t', [n, k]), { transB: true });
        return { lin, aff, mm, mmT, shared, sharedT };
      });
      await both(
        g,
        { x, wb, x2: randomTensor([b, n, m], r), w2: randomTensor([k, n], r), w2t: randomTensor([n, k], r) },
        `b${b} m${m} k${k} n${n} ${act}`,
      );
    },
  );

  it.each(Array.from({ length: 6 }, (_, i) => i))(
    'convolutions: patch embedding, 1x1, depthwise 3x3 #%i',
    async () => {
      const [b, c, p, s] = [pick(1, 2), pick(1, 4), pick(2, 5), pick(2, 5)];
      const o = pick(1, 9);
      const x = randomTensor([b, c, p * s, p * s], r);
      const g = trace((t) => {
        const xi = t.input('x', [b, c, p * s, p * s]);
        const patch = F.conv2d(
          xi,
          t.constant(randomTensor([o, c, p, p], r)),
          t.constant(randomTensor([o], r)),
          { stride: p },
        );
        const one = F.conv2d(patch, t.constant(randomTensor([c + 1, o, 1, 1], r)), undefined);
        const dw = F.conv2d(
          one,
          t.constant(randomTensor([c + 1, 1, 3, 3], r)),
          t.constant(randomTensor([c + 1], r)),
          {
            padding: 1,
            groups: c + 1,
          },
        );
        // one window over the whole image: a single pixel per channel (no transpose of the product)
        const whole = F.conv2d(
          xi,
          t.constant(randomTensor([o, c, p * s, p * s], r)),
          t.constant(randomTensor([o], r)),
          { stride: p * s },
        );
        // weights that are graph inputs, not constants (as a gradient pass's reshaped weights): the
        // product the other way round, the bias added after
        const patchIn = F.conv2d(xi, t.input('wp', [o, c, p, p]), t.input('bp', [o]), { stride: p });
        const oneIn = F.conv2d(patch, t.input('w1', [c + 1, o, 1, 1]), undefined);
        return { patch, one, dw, whole, patchIn, oneIn };
      });
      const inputs = {
        x,
        wp: randomTensor([o, c, p, p], r),
        bp: randomTensor([o], r),
        w1: randomTensor([c + 1, o, 1, 1], r),
      };
      await both(g, inputs, `conv b${b} c${c} p${p} s${s} o${o}`);
    },
  );

  it.each(Array.from({ length: 6 }, (_, i) => i))(
    'transposed operands: binary ops and reshape copies of permuted, broadcast and strided views #%i',
    async () => {
      const [b, m, n] = [pick(1, 3), pick(1, 70), pick(2, 45)];
      const [h, w] = [pick(1, 5), pick(1, 6)];
      const g = trace((t) => {
        const x = t.input('x', [b, m, n]);
        const yt = F.transpose(t.input('y', [b, n, m]));
        const img = t.input('img', [b, n, h, w]);
        const img4 = t.input('img4', [b, n, 2, 6]);
        const cb = t.input('cb', [b, n, 1, 1]);
        return {
          add: F.add(x, yt),
          mulFirst: F.mul(yt, x),
          bothSub: F.sub(yt, F.transpose(t.input('z', [b, n, m]))),
          reshaped: F.reshape(yt, [b, m * n]),
          // channels-last view of an image, as a permute's backward pass leaves it
          channelsLast: F.reshape(F.permute(img, [0, 2, 3, 1]), [b, h * w, n]),
          broadcastAndTransposed: F.add(F.add(x, yt), t.input('bias', [n])),
          // broadcast views copied (a 2x2 average pool's gradient spread over its windows; a sliced view)
          upsampled: F.reshape(F.expand(F.reshape(img, [b, n, h, 1, w, 1]), [b, n, h, 2, w, 2]), [
            b,
            n,
            4 * h * w,
          ]),
          everyOther: F.reshape(F.slice(x, [0, 0, 0], [b, m, n], [1, 2, 2]), [-1]),
          // per-channel biases of NCHW planes (the SIMD column add when a plane is a multiple of 4 floats)
          channelBias: F.add(img, cb),
          channelBiasFirst: F.add(cb, F.mul(img4, 2)),
          sharedChannelBias: F.add(img4, t.input('cb1', [1, n, 1, 1])),
        };
      });
      await both(
        g,
        {
          x: randomTensor([b, m, n], r),
          y: randomTensor([b, n, m], r),
          z: randomTensor([b, n, m], r),
          img: randomTensor([b, n, h, w], r),
          bias: randomTensor([n], r),
          img4: randomTensor([b, n, 2, 6], r),
          cb: randomTensor([b, n, 1, 1], r),
          cb1: randomTensor([1, n, 1, 1], r),
        },
        `transposed b${b} ${m}x${n} img ${h}x${w}`,
      );
    },
  );

  it.each(Array.from({ length: 6 }, (_, i) => i))(
    'depthwise weight gradient: 3x3 padding 1 (SIMD), strided, stride 2 #%i',
    async () => {
      const [b, c, h, w] = [pick(1, 3), pick(1, 9), pick(1, 16), pick(1, 17)];
      const x = randomTensor([b, c, h, w], r);
      const gy = randomTensor([b, c, h, w], r);
      const oh = Math.floor((h - 1) / 2) + 1;
      const ow = Math.floor((w - 1) / 2) + 1;
      const g = trace((t) => {
        const xi = t.input('x', [b, c, h, w]);
        const gi = t.input('g', [b, c, h, w]);
        return {
          dense: F.depthwiseWeightGrad(xi, gi, [3, 3], { padding: 1 }),
          strided: F.depthwiseWeightGrad(
            F.mul(xi, 1),
            F.permute(t.input('gt', [c, b, h, w]), [1, 0, 2, 3]),
            [3, 3],
            {
              padding: 1,
            },
          ),
          stride2: F.depthwiseWeightGrad(xi, t.input('g2', [b, c, oh, ow]), [3, 3], {
            stride: 2,
            padding: 1,
          }),
        };
      });
      await both(
        g,
        { x, g: gy, gt: randomTensor([c, b, h, w], r), g2: randomTensor([b, c, oh, ow], r) },
        `depthwise_weight_grad b${b} c${c} ${h}x${w}`,
      );
    },
  );

  it.each(Array.from({ length: 6 }, (_, i) => i))(
    'dyn_weight (DynLinear normalized weight), dense and transposed #%i',
    async () => {
      const [b, cin, cout] = [pick(1, 3), pick(1, 40), pick(1, 50)];
      const scale = (r() - 0.5) * 4;
      const gd = randomTensor([b, cin, cout], r);
      const g = trace((t) => {
        const gi = t.input('g', [b, cin, cout]);
        const w = t.constant(randomTensor([cin, cout], r));
        return {
          dense: F.dynWeight(gi, w, scale),
          strided: F.dynWeight(F.transpose(F.transpose(F.mul(gi, 1))), w, scale),
          viewed: F.dynWeight(F.transpose(t.input('gt', [b, cout, cin])), w, scale),
        };
      });
      await both(
        g,
        { g: gd, gt: randomTensor([b, cout, cin], r) },
        `dyn_weight b${b} ${cin}x${cout} s${scale}`,
      );
    },
  );

  it.each(Array.from({ length: 6 }, (_, i) => i))(
    'dyn_weight_grad (its backward pass), dense, transposed and with a zero column #%i',
    async (i) => {
      // odd cases: rows of a multiple of 4 floats (the SIMD kernel); even: any width (JavaScript)
      const [b, cin, cout] = [pick(1, 3), pick(1, 40), i % 2 ? 4 * pick(1, 12) : pick(1, 50)];
      const scale = (r() - 0.5) * 4;
      const gd = randomTensor([b, cin, cout], r);
      for (let i = 0; i < gd.data.length; i += cout) gd.data[i] = 0; // column 0 is zero: n = 0 there
      const g = trace((t) => {
        const gi = t.input('g', [b, cin, cout]);
        const gy = t.input('gy', [b, cin, cout]);
        return {
          dense: F.dynWeightGrad(gi, gy, scale),
          strided: F.dynWeightGrad(F.transpose(F.transpose(F.mul(gi, 1))), gy, scale),
          viewed: F.dynWeightGrad(F.transpose(t.input('gt', [b, cout, cin])), gy, scale),
        };
      });
      await both(
        g,
        { g: gd, gy: randomTensor([b, cin, cout], r), gt: randomTensor([b, cout, cin], r) },
        `dyn_weight_grad b${b} ${cin}x${cout} s${scale}`,
      );
    },
  );

  it.each(Array.from({ length: 6 }, (_, i) => i))(
    'column sums (bias and norm-weight gradients) and bias rows: SIMD widths #%i',
    async () => {
      const [b, rows, cols] = [pick(1, 3), pick(1, 300), 4 * pick(1, 50)];
      const x = randomTensor([b, rows, cols], r);
      const g = trace((t) => {
        const xi = t.input('x', [b, rows, cols]);
        return {
          sumRows: F.sum(xi, 1, true),
          meanRows: F.mean(xi, 1),
          sumBoth: F.sum(xi, [0, 1]),
          overUnit: F.sum(F.reshape(xi, [b, 1, rows, cols]), [1, 2]),
          odd: F.sum(F.sliceAxis(xi, -1, 0, cols - 1), 1),
          // and the bias-row add of the same widths, either operand order
          ...((row) => ({ biasRow: F.add(xi, row), rowFirst: F.add(row, xi) }))(t.input('row', [cols])),
        };
      });
      await both(g, { x, row: randomTensor([cols], r) }, `column sums b${b} ${rows}x${cols}`);
    },
  );

  it.each([true, false])(
    'SIMD kernels that reuse scratch memory after the heap grew (shared memory: %s)',
    async (sharedMemory) => {
      // The scratch region is made while the heap is small; a later graph grows the heap and puts its
      // tensors past the end of the buffer the scratch view was made on. Column sums wrote their result
      // through that stale buffer (a RangeError in the getting-started snippets).
      const grown = createCpuBackend({ initialHeapBytes: 1 << 16, threads: 1, sharedMemory });
      try {
        const small = trace((t) => ({ s: F.sum(F.mul(t.input('x', [1, 4, 64]), 1), 1, true) }));
        const big = trace((t) => {
          const x = F.mul(t.input('x', [1, 4096, 64]), 1);
          return {
            s: F.sum(x, 1, true),
            m: F.mean(x, 1),
            t: F.add(x, F.transpose(t.input('y', [1, 64, 4096]))),
          };
        });
        const xs = randomTensor([1, 4, 64], r);
        const xb = randomTensor([1, 4096, 64], r);
        const yb = randomTensor([1, 64, 4096], r);
        for (const [graph, inputs] of [
          [small, { x: xs }],
          [big, { x: xb, y: yb }],
        ] as const) {
          const [p, f] = await Promise.all([compile(graph, plain), compile(graph, grown)]);
          const a = await p.run(inputs);
          const b = await f.run(inputs);
          for (const k of Object.keys(a)) expectClose(b[k], a[k], 2e-5, `grown heap: ${k}`);
        }
      } finally {
        grown.dispose();
      }
    },
  );

  it.each(Array.from({ length: 6 }, (_, i) => i))(
    'layer norm and its gradient on SIMD rows from transposed and broadcast views #%i',
    async () => {
      const [b, n, d] = [pick(1, 2), pick(1, 40), 4 * pick(1, 12)];
      const g = trace((t) => {
        const xt = F.transpose(t.input('xt', [b, d, n])); // [b, n, d], stride 1 along n
        const w = t.input('w', [d]);
        const bias = t.input('bias', [d]);
        const gy = t.input('gy', [b, n, d]);
        const gb = F.expand(t.input('row', [d]), [b, n, d]); // a broadcast cotangent
        return {
          ln: F.layerNorm(xt, w, bias),
          plainLn: F.layerNorm(xt),
          grad: F.layerNormGrad(xt, gy, w),
          gradBroadcast: F.layerNormGrad(xt, gb),
          gradDenseX: F.layerNormGrad(F.mul(xt, 1), gb, w),
        };
      });
      await both(
        g,
        {
          xt: randomTensor([b, d, n], r),
          w: randomTensor([d], r),
          bias: randomTensor([d], r),
          gy: randomTensor([b, n, d], r),
          row: randomTensor([d], r),
        },
        `layer norm staged b${b} n${n} d${d}`,
      );
    },
  );

  it.each(Array.from({ length: 8 }, (_, i) => i))(
    'average and adaptive pooling, dense and channels-last views #%i',
    async () => {
      // channel counts that are multiples of 4 take the SIMD path on a channels-last view
      const [b, c, h, w] = [pick(1, 2), [1, 3, 4, 8, 12][pick(0, 4)], pick(1, 15), pick(1, 15)];
      const [kh, kw] = [pick(1, Math.min(3, h)), pick(1, Math.min(3, w))];
      const [sh, sw] = [pick(1, 3), pick(1, 3)];
      const [oh, ow] = [pick(1, h + 2), pick(1, w + 2)]; // more bins than rows: overlapping bins
      const x = randomTensor([b, h * w, c], r);
      const g = trace((t) => {
        const tokens = t.input('x', [b, h * w, c]);
        // a token grid viewed as an image (channels-last in memory), and a dense copy of it
        const img = F.permute(F.reshape(tokens, [b, h, w, c]), [0, 3, 1, 2]);
        const dense = F.add(img, 0);
        return {
          pool: F.avgPool2d(img, [kh, kw], [sh, sw]),
          poolDense: F.avgPool2d(dense, [kh, kw], [sh, sw]),
          adaptive: F.adaptiveAvgPool2d(img, [oh, ow]),
          adaptiveDense: F.adaptiveAvgPool2d(dense, [oh, ow]),
        };
      });
      await both(g, { x }, `pool b${b} c${c} ${h}x${w} k${kh}x${kw} s${sh}x${sw} bins ${oh}x${ow}`);
    },
  );

  it.each(Array.from({ length: 6 }, (_, i) => i))(
    'concat along any axis, short and long runs #%i',
    async () => {
      const rank = pick(1, 4);
      const axis = pick(0, rank - 1);
      const base = Array.from({ length: rank }, () => pick(1, 5));
      const shapes = Array.from({ length: pick(1, 4) }, () =>
        base.map((d, i) => (i === axis ? pick(1, 40) : d)),
      );
      const feeds = Object.fromEntries(shapes.map((sh, i) => [`x${i}`, randomTensor(sh, r)]));
      const g = trace((t) => {
        const xs = shapes.map((sh, i) => t.input(`x${i}`, sh));
        return {
          dense: F.concat(xs, axis),
          // a flipped kernel as the depthwise gradient builds it: size-1 slices concatenated
          flipped: F.concat(
            Array.from({ length: shapes[0][axis] }, (_, i) => F.sliceAxis(xs[0], axis, i, i + 1)).reverse(),
            axis,
          ),
          // a strided input (a transposed view) takes the plain path
          ...(rank >= 2 ? { strided: F.concat([F.transpose(xs[0]), F.transpose(xs[0])], 0) } : {}),
        };
      });
      await both(g, feeds, `concat ${JSON.stringify(shapes)} axis ${axis}`);
    },
  );

  it.each(Array.from({ length: 6 }, (_, i) => i))('norms, reductions and broadcasting #%i', async () => {
    const shape = [pick(1, 3), pick(1, 9), pick(1, 33)];
    const x = randomTensor(shape, r);
    const g = trace((t) => {
      const xi = t.input('x', shape);
      const d = shape[2];
      const ln = F.layerNorm(xi, t.constant(randomTensor([d], r)), t.constant(randomTensor([d], r)));
      return {
        ln,
        sm: F.softmax(F.mul(ln, 3)),
        l2: F.l2norm(xi, 1, true),
        mean: F.mean(xi, [1, 2]),
        mx: F.max(xi, 0),
        bias: F.add(xi, t.constant(randomTensor([d], r))),
        div: F.div(xi, F.add(F.l2norm(xi, 1, true), 1)),
        // strided rows (a slice of the last axis) and a transposed view
        siluSlice: F.silu(F.sliceAxis(xi, -1, 0, Math.max(1, d - 1))),
        sigmoidT: F.sigmoid(F.transpose(xi)),
        // SIMD sigmoid and SiLU: dense, and rows of a slice (whole vectors plus a JavaScript tail), wide range
        sigmoidWide: F.sigmoid(F.mul(xi, 40)),
        siluWide: F.silu(F.mul(xi, 40)),
        sigmoidSlice: F.sigmoid(F.sliceAxis(F.mul(xi, 10), -1, Math.min(1, d - 1), d)),
        addT: F.add(F.transpose(xi), F.transpose(F.mul(xi, 2))),
        // reductions of broadcast views (a mean's cotangent spread over its tokens, summed for a bias grad)
        ...(() => {
          const spread = F.expand(F.sliceAxis(xi, 1, 0, 1), shape);
          return {
            sumSpread: F.sum(spread, [1], true),
            sumSpreadAll: F.sum(spread, [0, 1]),
            meanSpread: F.mean(spread, [1, 2]),
            maxSpread: F.max(spread, 1),
            l2Spread: F.l2norm(spread, 1, true),
          };
        })(),
      };
    });
    await both(g, { x }, `norm ${shape}`);
  });

  it.each(Array.from({ length: 8 }, (_, i) => i))(
    'broadcast runs, unary loops, non-adjacent reductions, gelu_grad, tiny batched products #%i',
    async () => {
      const shape = [pick(1, 3), pick(1, 5), pick(1, 4), pick(1, 9)];
      // each operand drops a random subset of axes to size 1 (both may broadcast along the same run)
      const masked = () => shape.map((d) => (r() < 0.4 ? 1 : d));
      const [sa, sb] = [masked(), masked()];
      const [m, k, n] = [pick(1, 9), pick(1, 12), pick(1, 3)];
      const g = trace((t) => {
        const a = t.input('a', sa);
        const b = t.input('b', sb);
        const x = t.input('x', shape);
        const out: Record<string, ReturnType<typeof F.add>> = {};
        for (const op of ['add', 'sub', 'mul', 'maximum', 'minimum', 'greater'] as const)
          out[op] = F[op](a, b);
        out.div = F.div(a, F.add(F.abs(b), 1));
        out.scalarSub = F.sub(2, x);
        for (const op of ['exp', 'erf', 'tanh', 'sigmoid', 'relu', 'neg', 'abs'] as const)
          out[op] = F[op](F.mul(x, 4));
        out.sum023 = F.sum(x, [0, 2, 3]);
        out.mean13 = F.mean(x, [1, 3], true);
        out.max02 = F.max(x, [0, 2]);
        out.l2n13 = F.l2norm(x, [1, 3]);
        out.lastMean = F.mean(x, -1, true);
        out.geluGrad = F.geluGrad(F.mul(x, 3), F.exp(x));
        out.geluGradTanh = F.geluGrad(F.mul(x, 3), x, 'tanh');
        const p = t.input('p', [shape[0] * shape[1], m, k]);
        const q = t.input('q', [shape[0] * shape[1], n, k]);
        out.tiny = F.matmul(p, q, { transB: true });
        return out;
      });
      const inputs = {
        a: randomTensor(sa, r),
        b: randomTensor(sb, r),
        x: randomTensor(shape, r),
        p: randomTensor([shape[0] * shape[1], m, k], r),
        q: randomTensor([shape[0] * shape[1], n, k], r),
      };
      await both(g, inputs, `a ${sa} b ${sb} x ${shape}`);
    },
  );
});
