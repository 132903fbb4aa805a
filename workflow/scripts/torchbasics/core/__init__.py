"""What every stage shares: errors, atomic files and tables, the config, sources, devices, threads, precision and
the figure backend."""
