"""Reads the OGC API with OWSLib as a GIS script would; prints what it saw as JSON.

Usage: owslib_check.py BASE_URL WEST,SOUTH,EAST,NORTH
"""
import json
import sys

from owslib.ogcapi.features import Features

url, bbox = sys.argv[1], [float(x) for x in sys.argv[2].split(",")]
api = Features(url)
out = {"owslib": __import__("owslib").__version__}
out["collections"] = [c["id"] for c in api.collections()["collections"]]
out["conformance"] = api.conformance()["conformsTo"]
out["queryables"] = sorted(api.collection_queryables("reports")["properties"].keys())

page = api.collection_items("reports", limit=2)
out["limit"] = {"returned": len(page["features"]), "matched": page["numberMatched"],
                "next": any(l["rel"] == "next" for l in page["links"])}
inside = api.collection_items("reports", bbox=bbox, limit=100)
out["bbox"] = sorted(f["id"] for f in inside["features"])
potholes = api.collection_items("reports", filter="category = 'pothole' AND supporters >= 1", limit=100)
out["filter"] = sorted(f["id"] for f in potholes["features"])
out["filter_props"] = sorted(potholes["features"][0]["properties"].keys()) if potholes["features"] else []
one = api.collection_item("reports", str(out["filter"][0])) if out["filter"] else None
out["item"] = one["id"] if one else None
print(json.dumps(out))
