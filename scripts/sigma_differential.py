"""The pySigma side of the differential check (run by scripts/sigma-differential).

Loads the flattened events the isms side wrote into an SQLite table whose columns compare
case-insensitively (Sigma's default), converts every rule with pySigma's SQLite backend
(no processing pipeline: the detection language alone), runs each query and compares the
matched events with those isms matched for the same rule. Prints a summary and writes
every rule on which the two disagree, with an example event, to OUT_DIR/differences.jsonl.

    python sigma_differential.py RULES OUT_DIR
"""

import json
import re
import sqlite3
import sys
from collections import Counter
from pathlib import Path

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection


def main():
    rules_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    events = [json.loads(line) for line in (out / "events.jsonl").open()]
    # SQLite column names ignore case: fields that differ only in case share a column.
    by_lower = {}
    for k in sorted({k for e in events for k in e}):
        by_lower.setdefault(k.lower(), []).append(k)
    columns = [names[0] for names in by_lower.values()]
    value = lambda e, c: next((e[n] for n in by_lower[c.lower()] if e.get(n) is not None), None)
    db = sqlite3.connect(":memory:")
    # REGEXP for the `re` modifier, as Python's re understands it.
    db.create_function("regexp", 2, lambda p, v: v is not None and re.search(p, str(v)) is not None, deterministic=True)
    quoted = lambda c: '"' + c.replace('"', '""') + '"'
    db.execute("CREATE TABLE logs (" + ", ".join(f"{quoted(c)} COLLATE NOCASE" for c in columns) + ")")
    place = ", ".join("?" for _ in columns)
    db.executemany(
        f"INSERT INTO logs ({', '.join(quoted(c) for c in columns)}) VALUES ({place})",
        [[value(e, c) for c in columns] for e in events],
    )
    known = {c.lower() for c in columns}

    isms = {}
    for line in (out / "isms.jsonl").open():
        r = json.loads(line)
        isms[(r["file"], r["id"])] = set(r["hits"])
    refused = {(r["file"], r["id"]): r for r in map(json.loads, (out / "refused.jsonl").open())}

    backend = sqliteBackend()
    tally = Counter()
    diffs = []
    for path in sorted(rules_dir.rglob("*.yml")):
        name = str(path.relative_to(rules_dir))
        try:
            collection = SigmaCollection.from_yaml(path.read_text())
            queries = backend.convert(collection)
        except Exception as e:  # pySigma refuses the rule
            tally["pysigma cannot convert"] += 1
            ours = [k for k in isms if k[0] == name]
            diffs.append({"file": name, "kind": "pysigma cannot convert", "reason": str(e)[:300], "isms_loaded": bool(ours)})
            continue
        rules = [r for r in collection.rules if type(r).__name__ == "SigmaRule"]
        for rule, query in zip(rules, queries):
            key = (name, str(rule.id) if rule.id else None)
            if key in refused:
                tally["isms refuses"] += 1
                diffs.append({"file": name, "kind": "isms refuses", "reason": refused[key]["reason"]})
                continue
            if key not in isms:
                tally["not compared"] += 1
                continue
            sql = query.replace("SELECT * FROM logs", "SELECT rowid - 1 FROM logs", 1)
            # A field no event has: SQLite refuses the query; add it as a column of NULLs.
            theirs = None
            while theirs is None:
                try:
                    theirs = {row[0] for row in db.execute(sql)}
                except sqlite3.OperationalError as e:
                    missing = re.match(r"no such column: (.+)", str(e))
                    if not missing or missing.group(1).lower() in known:
                        tally["query fails in SQLite"] += 1
                        diffs.append({"file": name, "kind": "query fails in SQLite", "reason": str(e), "sql": sql[:500]})
                        break
                    db.execute(f"ALTER TABLE logs ADD COLUMN {quoted(missing.group(1))} COLLATE NOCASE")
                    known.add(missing.group(1).lower())
            if theirs is None:
                continue
            ours = isms[key]
            if ours == theirs:
                tally["agree"] += 1
                if ours:
                    tally["agree, with matches"] += 1
                continue
            tally["differ"] += 1
            only_ours, only_theirs = sorted(ours - theirs), sorted(theirs - ours)
            example = (only_ours or only_theirs)[0]
            diffs.append(
                {
                    "file": name,
                    "kind": "differ",
                    "only_isms": len(only_ours),
                    "only_pysigma": len(only_theirs),
                    "sql": sql[:800],
                    "event": {k: v for k, v in events[example].items() if not k.startswith("Event.")},
                }
            )
    with (out / "differences.jsonl").open("w") as f:
        for d in diffs:
            f.write(json.dumps(d) + "\n")
    print(f"events: {len(events)}")
    for k, v in sorted(tally.items()):
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
