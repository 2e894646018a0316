#!/bin/sh
# Export the most recent blocks, transactions and logs from Erigon to Parquet.
# cryo skips chunks that already exist, so every run only adds what is new; the reorg buffer
# keeps the last few blocks out until they are final enough.
set -eu
out="/exports/${NETWORK}"
mkdir -p "$out"
exec cryo blocks transactions logs \
  --rpc "$ETH_RPC_URL" \
  --blocks="-${LOOKBACK_BLOCKS}:latest" \
  --align \
  --reorg-buffer "$REORG_BUFFER" \
  --chunk-size 1000 \
  --max-concurrent-requests 32 \
  --requests-per-second 500 \
  --output-dir "$out"
