#!/bin/sh
# Regenerates the part-0 figures quoted in the README: names the commit and
# the CPU (model and the SIMD flags that pick detprob's kernels), then prints
# the default ladder and the metric run as Markdown, then the grokking runs
# (the default, a full --no-stop run, the weight-decay-0 control, Grokfast
# and the default phase diagram). `part0_figures.sh grok` prints only the
# grokking part. Run from the repository root after `cargo build --release`.
set -eu
bin=${DETPROB:-target/release/detprob}
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
    grep -x -E 'avx2|fma|f16c|avx512f|avx512_vnni|avx_vnni' | tr '\n' ' ')
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "commit $(git rev-parse --short HEAD); $(nproc) cores, $cpu; flags: $flags"
if [ "${1:-all}" != grok ]; then
    echo
    "$bin" emergence ladder --format markdown
    echo
    "$bin" emergence metric --digits 1,2,3,6 --format markdown
fi
for flags in "" "--no-stop" "--no-stop --weight-decay 0" "--grokfast"; do
    echo
    echo "## emergence grok $flags"
    # shellcheck disable=SC2086 # the flags are words
    "$bin" emergence grok $flags --format markdown
done
echo
"$bin" emergence grok --phase --format markdown
