#!/usr/bin/env python3
"""How long the disk under the benchmark database takes to make a small write durable.

Every accepted assertion waits for a SQLite WAL commit: a few 4 KiB pages written with
`pwrite`, then one `fdatasync`. This tool does the same with no SQLite and no keyward around it,
so the latency of the storage itself can be told apart from the server's. With --background it
also runs a second writer that appends and syncs another file (as the WAL checkpoint does with
the database file) to show whether one sync waits behind the other.

    bench/disk-sync.py                      # 2,000 commits of 3 pages in a temp dir beside the repo
    bench/disk-sync.py --dir /some/disk --commits 5000 --pages 4 --background
"""
import argparse
import os
import statistics
import tempfile
import threading
import time

PAGE = 4096


def commit_loop(path, commits, pages, stop=None):
    """Appends `pages` pages and fdatasyncs, `commits` times (or until `stop` is set)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    block = os.urandom(PAGE * pages)
    took = []
    offset = 0
    i = 0
    try:
        while (stop is None and i < commits) or (stop is not None and not stop.is_set()):
            start = time.perf_counter_ns()
            os.pwrite(fd, block, offset)
            os.fdatasync(fd)
            took.append(time.perf_counter_ns() - start)
            offset += len(block)
            if offset >= 64 * 1024 * 1024:  # a WAL is reset after a checkpoint; so is this file
                offset = 0
            i += 1
    finally:
        os.close(fd)
    return took


def quantile(sorted_ns, q):
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--dir", default=here, help="directory on the disk to measure")
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--background", action="store_true",
                        help="a second thread appends 64 pages and syncs another file meanwhile")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="kw-disk-sync-") as work:
        stop = threading.Event()
        other = None
        if args.background:
            other = threading.Thread(
                target=commit_loop, args=(os.path.join(work, "db"), 0, 64, stop))
            other.start()
        try:
            took = sorted(commit_loop(os.path.join(work, "wal"), args.commits, args.pages))
        finally:
            stop.set()
            if other:
                other.join()
    print(f"{len(took)} commits of {args.pages} page(s)"
          f"{' with a background writer' if args.background else ''}: "
          f"mean {statistics.mean(took) / 1000:.0f} us, p50 {quantile(took, 0.50):.0f} us, "
          f"p99 {quantile(took, 0.99):.0f} us, p99.9 {quantile(took, 0.999):.0f} us, "
          f"max {took[-1] / 1000:.0f} us")


if __name__ == "__main__":
    main()
