# Performance statistics (docs/STATS.md): RRDs, rrd_updates output, and
# the collector that feeds them from the daemon's loop.
xb-srcs-$(CONFIG_XB_STATS) += stats/rrd.c stats/rrd_file.c stats/rrd_xport.c stats/collector.c stats/perfmon.c
