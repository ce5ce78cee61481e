#!/usr/bin/env python3
"""What Python feedparser reads in RSS and Atom files, printed as JSON for tests/readers.rs.

usage: feedparser_check.py LIST   (LIST: a file naming one feed file per line)

Prints one JSON object: {path: {"bozo", "error", "version", "entries"}}, each entry
{"id", "title", "link", "published", "updated", "enclosures": [[href, type], ...]}, with
dates as Unix seconds (UTC) and null for what feedparser did not find. It judges nothing:
the Rust test compares it with what syndic wrote.
"""
import calendar
import json
import sys

import feedparser


def seconds(parsed):
    return None if parsed is None else calendar.timegm(parsed)


def entry(e):
    return {
        "id": e.get("id"),
        "title": e.get("title"),
        "link": e.get("link"),
        # dict.get, not e.get: FeedParserDict answers a missing "updated_parsed" with
        # "published_parsed", which would hide a missing <updated>.
        "published": seconds(dict.get(e, "published_parsed")),
        "updated": seconds(dict.get(e, "updated_parsed")),
        "enclosures": [[x.get("href"), x.get("type")] for x in e.get("enclosures", [])],
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        paths = f.read().splitlines()
    out = {}
    for path in paths:
        d = feedparser.parse(path)
        out[path] = {
            "bozo": bool(d.bozo),
            "error": str(d.get("bozo_exception", "")),
            "version": d.get("version", ""),
            "entries": [entry(e) for e in d.entries],
        }
    json.dump(out, sys.stdout)


main()
