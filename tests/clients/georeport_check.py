"""Reads the Open311 endpoint with the `georeport` client library, in JSON and in XML.

Usage: georeport_check.py ROOT_URL SERVICE_CODE
Prints what it saw as JSON.
"""
import json
import sys

from georeport import GeoReport

root, code = sys.argv[1], sys.argv[2]
out = {}
for fmt in ("json", "xml"):
    client = GeoReport(root, output_format=fmt)
    services = client.get_service_list()
    definition = client.get_service_definition(code)
    requests = client.get_service_requests(service_code=code)
    if isinstance(requests, dict):  # xmltodict gives one element as a dict
        requests = [requests]
    opened = client.get_service_requests(status="open")
    if isinstance(opened, dict):
        opened = [opened]
    first = requests[0]["service_request_id"] if requests else None
    one = client.get_service_request(first) if first else None
    out[fmt] = {
        "services": len(services),
        "groups": sorted({s["group"] for s in services}),
        "definition": definition["service_code"],
        "requests": sorted(str(r["service_request_id"]) for r in requests),
        "statuses": sorted({r["status"] for r in requests}),
        "open": len(opened),
        "one": str(one["service_request_id"]) if isinstance(one, dict) else str(one[0]["service_request_id"]) if one else None,
    }
print(json.dumps(out))
