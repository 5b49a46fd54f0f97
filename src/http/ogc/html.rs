//! Plain HTML views of the OGC API resources, for people looking at it in a browser.
use serde_json::Value;

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title><style>body{{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:1.5rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}\
         code{{background:#f4f4f4;padding:0 .2rem}}</style></head><body><nav><a href=\"/ogc?f=html\">OGC API</a> · \
         <a href=\"/ogc/collections?f=html\">Collections</a> · <a href=\"/ogc/conformance?f=html\">Conformance</a> · \
         <a href=\"/ogc/api?f=html\">API</a></nav><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    )
}

fn links(v: &Value) -> String {
    let mut s = String::from("<ul>");
    for l in v["links"].as_array().into_iter().flatten() {
        let href = l["href"].as_str().unwrap_or("");
        s.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <small>({}, {})</small></li>",
            esc(href),
            esc(l["title"].as_str().unwrap_or(href)),
            esc(l["rel"].as_str().unwrap_or("")),
            esc(l["type"].as_str().unwrap_or(""))
        ));
    }
    s.push_str("</ul>");
    s
}

pub fn landing(v: &Value) -> String {
    page(
        v["title"].as_str().unwrap_or("OGC API"),
        &format!(
            "<p>{}</p>{}<p>In QGIS: <em>Layer › Add Layer › Add WFS / OGC API – Features Layer</em>, URL <code>…/ogc</code>. \
             With GDAL: <code>ogrinfo OAPIF:http://HOST/ogc</code>.</p>",
            esc(v["description"].as_str().unwrap_or("")),
            links(v)
        ),
    )
}

pub fn api(doc: &Value) -> String {
    let mut s = String::from("<table><tr><th>Path</th><th>What</th></tr>");
    if let Some(paths) = doc["paths"].as_object() {
        for (path, ops) in paths {
            s.push_str(&format!(
                "<tr><td><code>GET /ogc{}</code></td><td>{}</td></tr>",
                esc(path),
                esc(ops["get"]["summary"].as_str().unwrap_or(""))
            ));
        }
    }
    s.push_str("</table><p><a href=\"/ogc/api?f=json\">OpenAPI 3.0 JSON</a></p>");
    page("API", &s)
}

pub fn conformance(classes: &[&str]) -> String {
    let items: String = classes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>", esc(c)))
        .collect();
    page("Conformance", &format!("<ul>{items}</ul>"))
}

pub fn collections(v: &Value) -> String {
    let mut s = String::from("<table><tr><th>Collection</th><th>Description</th></tr>");
    for c in v["collections"].as_array().into_iter().flatten() {
        let id = c["id"].as_str().unwrap_or("");
        s.push_str(&format!(
            "<tr><td><a href=\"/ogc/collections/{id}?f=html\">{}</a></td><td>{}</td></tr>",
            esc(c["title"].as_str().unwrap_or(id)),
            esc(c["description"].as_str().unwrap_or(""))
        ));
    }
    s.push_str("</table>");
    page("Collections", &s)
}

pub fn collection(c: &Value) -> String {
    let id = c["id"].as_str().unwrap_or("");
    page(
        c["title"].as_str().unwrap_or(id),
        &format!(
            "<p>{}</p><p>Extent: <code>{}</code></p>{}<p><a href=\"/ogc/collections/{id}/items?f=html\">Browse the items</a></p>",
            esc(c["description"].as_str().unwrap_or("")),
            esc(&c["extent"]["spatial"]["bbox"].to_string()),
            links(c)
        ),
    )
}

pub fn queryables(id: &str, v: &Value) -> String {
    let mut s = String::from("<table><tr><th>Property</th><th>Type</th><th>Title</th></tr>");
    for (name, q) in v["properties"].as_object().into_iter().flatten() {
        s.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(name),
            esc(q["type"].as_str().or(q["format"].as_str()).unwrap_or("")),
            esc(q["title"].as_str().unwrap_or(""))
        ));
    }
    s.push_str("</table><p>Filter example: <code>?filter=status IN ('new','planned') AND created_at &gt; TIMESTAMP('2025-01-01T00:00:00Z')</code></p>");
    page(&format!("Queryables of {id}"), &s)
}

pub fn items(id: &str, head: &Value, titles: &[(String, String)], offset: i64) -> String {
    let mut s = format!(
        "<p>{} matched, {} shown from {}.</p><ol start=\"{}\">",
        head["numberMatched"],
        head["numberReturned"],
        offset + 1,
        offset + 1
    );
    for (fid, title) in titles {
        s.push_str(&format!(
            "<li><a href=\"/ogc/collections/{id}/items/{fid}?f=html\">#{fid}</a> {}</li>",
            esc(title)
        ));
    }
    s.push_str("</ol>");
    s.push_str(&links(head));
    page(&format!("Items of {id}"), &s)
}

pub fn feature(id: &str, f: &Value) -> String {
    let mut s = String::from("<table>");
    for (k, v) in f["properties"].as_object().into_iter().flatten() {
        let text = match v {
            Value::String(x) => x.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        s.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(k),
            esc(&text)
        ));
    }
    s.push_str(&format!(
        "<tr><th>geometry</th><td><code>{}</code></td></tr></table>",
        esc(&f["geometry"].to_string())
    ));
    s.push_str(&links(f));
    page(&format!("{id} #{}", f["id"]), &s)
}
