#!/bin/sh
# Print command for ippeveprinter (-c) that takes its time: the job stays `processing` for 2 s.
sleep 2
