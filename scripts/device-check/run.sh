#!/usr/bin/env bash
# WeightFormer.js GPU check. Run from the repository root:   bash .gpu/run.sh
# (source: scripts/device-check/run.sh; scripts/device-check/prepare.sh copies it into .gpu/ with the rest)
# Needs nothing but this folder (carried Node + Dawn + bundled JS + fixtures) and, optionally, ../.gl/*.deb
# (Vulkan loader + glvnd). Results: $OUT/gpu.log and $OUT/gpu.json (OUT defaults to /tmp/out).
# Env: WF_GPU_CHECK_MODE (gpu.js mode, default webgpu), WF_GPU_CHECK_BUDGET_S (default 300),
#      WF_GPU_CHECK_STEPS (adapter,parity,grad-parity,timing,conformance), WF_WEBGPU_FLAGS (Dawn toggles),
#      WF_GPU_NO_SYSTEM_DEBS=1 (never dpkg -x into /; unpack .gl debs into a private folder instead),
#      WF_GPU_FORCE_DEBS=1 (unpack .gl debs even when libvulkan/glvnd are already installed),
#      WF_GPU_NODE_PREFIX (local testing: a command put before node, e.g. another ld-linux --library-path).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
OUT="${OUT:-/tmp/out}"
export OUT
mkdir -p "$OUT"
W=/tmp/wfgpu
MODE="${WF_GPU_CHECK_MODE:-webgpu}"
SETUP_LOG="$OUT/gpu-setup.log"
: > "$SETUP_LOG"
say() { echo "[setup] $*" | tee -a "$SETUP_LOG"; }

unxz_to() { # unxz_to SRC DST
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" > "$2"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"
  else say "neither xz nor python3 to unpack $1"; return 1; fi
}

say "repo $ROOT, out $OUT, mode $MODE, $(uname -srm), $(ldd --version 2>/dev/null | head -1)"
rm -rf "$W"; mkdir -p "$W/node_modules/webgpu/dist"

# 1. Node
unxz_to "$HERE/node.xz" /tmp/node.tmp && mv -f /tmp/node.tmp /tmp/node && chmod +x /tmp/node
say "node: $(/tmp/node --version 2>&1 | head -1)"

# 2. Dawn (the `webgpu` npm package: its index.js + package.json + the linux-x64 binary)
cp "$HERE/webgpu/package.json" "$HERE/webgpu/index.js" "$W/node_modules/webgpu/"
unxz_to "$HERE/dawn.node.xz" "$W/node_modules/webgpu/dist/linux-x64.dawn.node"
cp "$HERE/check.mjs" "$W/check.mjs"

# 3. Vulkan loader / glvnd from .gl/*.deb when present
if [ -d "$ROOT/.gl" ] && ls "$ROOT"/.gl/*.deb >/dev/null 2>&1; then
  have_libs=1
  for l in libvulkan.so.1 libGLdispatch.so.0 libEGL.so.1; do ldconfig -p 2>/dev/null | grep -q "$l" || have_libs=0; done
  if [ "$have_libs" = 1 ] && [ -z "${WF_GPU_FORCE_DEBS:-}" ]; then
    say "libvulkan/glvnd already present: .gl debs not needed"
  elif [ "$(id -u)" = 0 ] && [ -z "${WF_GPU_NO_SYSTEM_DEBS:-}" ] && command -v dpkg >/dev/null 2>&1; then
    for f in "$ROOT"/.gl/*.deb; do dpkg -x "$f" / || say "dpkg -x $f failed"; done
    ldconfig || true
    say "unpacked $(ls "$ROOT"/.gl/*.deb | wc -l) .gl debs into /"
  else
    mkdir -p "$W/sysroot"
    for f in "$ROOT"/.gl/*.deb; do
      if command -v dpkg-deb >/dev/null 2>&1; then dpkg-deb -x "$f" "$W/sysroot"
      else (cd "$W" && ar x "$f" data.tar.xz 2>/dev/null && tar -xJf data.tar.xz -C "$W/sysroot" && rm -f data.tar.xz) || say "cannot unpack $f"; fi
    done
    export LD_LIBRARY_PATH="$W/sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "unpacked .gl debs into $W/sysroot (LD_LIBRARY_PATH)"
  fi
fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && case ":${LD_LIBRARY_PATH:-}:" in *":$d:"*) ;; *) export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d";; esac
done
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for j in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$j" ]; then export VK_DRIVER_FILES="$j"; break; fi
  done
fi
if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ]; then
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
say "VK_DRIVER_FILES=${VK_DRIVER_FILES:-<unset>} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-<unset>}"
[ -n "${VK_DRIVER_FILES:-}" ] && say "icd: $(tr -d '\n ' < "$VK_DRIVER_FILES" | head -c 300)"
command -v nvidia-smi >/dev/null 2>&1 && say "nvidia-smi: $(nvidia-smi -L 2>&1 | head -2 | tr '\n' ' ')"
say "libs: $( (ldconfig -p 2>/dev/null | grep -oE 'lib(vulkan|GLX_nvidia|EGL_nvidia|nvidia-glcore|GLdispatch)\.so\.[0-9]+' | sort -u | tr '\n' ' ') )"

# 4. the check (330 s guard; the script budgets itself to WF_GPU_CHECK_BUDGET_S, default 300)
cd "$ROOT"
# WF_GPU_NODE_PREFIX: local testing only (e.g. a newer ld-linux-x86-64.so.2 --library-path ... for Dawn)
timeout -k 10 330 ${WF_GPU_NODE_PREFIX:-} /tmp/node "$W/check.mjs" --mode "$MODE" --fixtures "$HERE/fixtures" --out "$OUT" 2>&1 \
  | tee "$OUT/gpu.log"
rc=${PIPESTATUS[0]}
cat "$SETUP_LOG" "$OUT/gpu.log" > "$OUT/gpu.log.tmp" 2>/dev/null && mv -f "$OUT/gpu.log.tmp" "$OUT/gpu.log"
if [ ! -s "$OUT/gpu.json" ]; then
  printf '{"mode":"%s","finished":false,"exitCode":%s,"fatal":"check.mjs wrote no gpu.json (see gpu.log)"}\n' "$MODE" "$rc" > "$OUT/gpu.json"
elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  /tmp/node -e 'const f=process.argv[1],j=JSON.parse(require("fs").readFileSync(f,"utf8"));j.timedOut=true;j.exitCode=+process.argv[2];require("fs").writeFileSync(f,JSON.stringify(j,null,2)+"\n")' "$OUT/gpu.json" "$rc" \
    || echo "(could not mark gpu.json as timed out)"
fi
echo "[run.sh] check exit code $rc; results in $OUT/gpu.json and $OUT/gpu.log"
exit "$rc"
