#!/bin/sh
echo "coverage reports are not available in the offline accel build" >&2
exit 1
