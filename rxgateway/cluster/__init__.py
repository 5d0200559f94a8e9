"""Past one process: shards of one bot spread over processes and machines, on Redis.

Work in progress; see the package's modules.
"""
