#!/bin/sh
# Print command for ippeveprinter (-c) that fails like a paper jam: the job ends `aborted`.
echo "ERROR: simulated paper jam" >&2
exit 1
