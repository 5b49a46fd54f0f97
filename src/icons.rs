//! Category icons: one small SVG per category in the city pack (`icon_file` in categories.csv),
//! checked when the pack is read, written to `{data_dir}/{slug}/icons/{code}.svg` by
//! `zglos setup`, and served from memory as `/icons/{code}.svg`.
//!
//! An icon is a pictogram, not a document: it may hold no script, no event handler, no
//! reference to anything outside itself, no DTD and nothing larger than [`MAX_BYTES`].
use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// The largest icon accepted.
pub const MAX_BYTES: usize = 32 * 1024;

/// The folder of a city's icons, inside its folder in the data folder.
pub const DIR: &str = "icons";

/// Reads and checks one icon file; the error names the file.
pub fn read(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    check(&bytes).with_context(|| format!("{} is not an acceptable icon", path.display()))?;
    Ok(String::from_utf8(bytes).expect("checked as UTF-8"))
}

/// Writes (code, SVG) icons into `dir` as `{code}.svg`, removing those an earlier import left
/// there that are no longer in the pack; the number written.
pub fn write(dir: &Path, icons: &[(String, String)]) -> Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let stale = path.extension().is_some_and(|e| e == "svg")
            && !icons
                .iter()
                .any(|(code, _)| path.file_stem().is_some_and(|s| s == code.as_str()));
        if stale {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    for (code, svg) in icons {
        let path = dir.join(format!("{code}.svg"));
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, svg).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(icons.len())
}

/// The icons `zglos setup` wrote into `dir`, by category code (checked again: the folder is
/// only a folder).
pub fn load(dir: &Path) -> Result<HashMap<String, String>> {
    let mut icons = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(icons);
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "svg") {
            continue;
        }
        let Some(code) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        icons.insert(code.to_owned(), read(&path)?);
    }
    Ok(icons)
}

/// Whether `bytes` is an SVG icon the service will serve.
pub fn check(bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_BYTES {
        bail!("{} bytes, more than {MAX_BYTES}", bytes.len());
    }
    let text = std::str::from_utf8(bytes).context("not UTF-8")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rest = text;
    let mut root: Option<String> = None;
    let mut depth = 0usize;
    while let Some(at) = rest.find('<') {
        if depth == 0 && root.is_some() && !rest[..at].trim().is_empty() {
            bail!("text after the <svg> element");
        }
        rest = &rest[at..];
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").context("a comment is not closed")?;
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").context("a CDATA section is not closed")?;
            rest = &r[end + 3..];
        } else if rest.starts_with("<!") {
            bail!("a DOCTYPE or entity declaration");
        } else if let Some(r) = rest.strip_prefix("<?") {
            let end = r
                .find("?>")
                .context("a processing instruction is not closed")?;
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').context("a closing tag is not closed")?;
            depth = depth
                .checked_sub(1)
                .context("a closing tag without its element")?;
            rest = &r[end + 1..];
        } else {
            let (name, attrs, self_closing, after) = tag(&rest[1..])?;
            let local = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
            if root.is_none() {
                if local != "svg" {
                    bail!("the root element is <{name}>, not <svg>");
                }
                root = Some(name.to_owned());
            } else if depth == 0 {
                bail!("a second root element <{name}>");
            }
            if matches!(
                local.as_str(),
                "script" | "foreignobject" | "iframe" | "embed" | "object" | "audio" | "video"
            ) {
                bail!("a <{name}> element");
            }
            for (attr, value) in attrs {
                let lower = attr.to_ascii_lowercase();
                let local_attr = lower.rsplit(':').next().unwrap_or(&lower);
                if local_attr.starts_with("on") {
                    bail!("an event handler attribute {attr}");
                }
                if (local_attr == "href" || local_attr == "src")
                    && !value.trim_start().starts_with('#')
                {
                    bail!("{attr}={value:?} refers to something outside the icon");
                }
                check_value(attr, &value)?;
            }
            if !self_closing {
                depth += 1;
            }
            rest = after;
        }
    }
    if root.is_none() {
        bail!("no <svg> element");
    }
    if depth != 0 {
        bail!("an element is not closed");
    }
    // Text and style content: no script URLs, no outside resources.
    let lower = text.to_ascii_lowercase();
    for bad in ["javascript:", "@import", "url(http", "url(//", "url(data"] {
        if lower.contains(bad) {
            bail!("{bad:?} in the icon");
        }
    }
    Ok(())
}

/// Refuses an attribute value that reaches outside the icon (`url(...)` to anything but `#id`).
fn check_value(attr: &str, value: &str) -> Result<()> {
    let lower = value.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("url(") {
        rest = &rest[at + 4..];
        let target = rest.trim_start().trim_start_matches(['"', '\'']);
        if !target.starts_with('#') {
            bail!("{attr}={value:?} refers to something outside the icon");
        }
    }
    if lower.contains("javascript:") {
        bail!("{attr}={value:?} holds a script URL");
    }
    Ok(())
}

type Tag<'a> = (&'a str, Vec<(&'a str, String)>, bool, &'a str);

/// One start tag after its `<`: name, attributes, whether it closes itself, and what follows.
fn tag(s: &str) -> Result<Tag<'_>> {
    let name_end = s
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .context("a tag is not closed")?;
    let name = &s[..name_end];
    if name.is_empty() || !name.chars().all(is_name_char) {
        bail!("a malformed tag <{name}");
    }
    let mut rest = &s[name_end..];
    let mut attrs = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("/>") {
            return Ok((name, attrs, true, r));
        }
        if let Some(r) = rest.strip_prefix('>') {
            return Ok((name, attrs, false, r));
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '>' || c == '/')
            .context("a tag is not closed")?;
        let attr = &rest[..end];
        if attr.is_empty() || !attr.chars().all(is_name_char) {
            bail!("a malformed attribute in <{name}>");
        }
        rest = rest[end..].trim_start();
        let r = rest
            .strip_prefix('=')
            .with_context(|| format!("the attribute {attr} of <{name}> has no value"))?
            .trim_start();
        let quote = r
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .with_context(|| format!("the attribute {attr} of <{name}> is not quoted"))?;
        let r = &r[1..];
        let close = r
            .find(quote)
            .with_context(|| format!("the attribute {attr} of <{name}> is not closed"))?;
        let raw = &r[..close];
        if raw.contains('<') {
            bail!("a '<' in the attribute {attr} of <{name}>");
        }
        attrs.push((attr, unescape(raw)));
        rest = &r[close + 1..];
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ':' | '_' | '-' | '.')
}

/// Character references decoded, so `&#106;avascript:` reads as what it is.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::check;

    const OK: &str = r##"<?xml version="1.0"?>
<!-- a pothole -->
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor">
  <defs><linearGradient id="g"/></defs>
  <path d="M2 20h20" style="fill: url(#g)"/><use href="#g"/>
</svg>
"##;

    #[test]
    fn a_plain_pictogram_passes() {
        check(OK.as_bytes()).unwrap();
        for dir in ["cities/krakow/icons"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                super::read(&path).unwrap();
            }
        }
    }

    #[test]
    fn scripts_handlers_outside_references_and_big_files_are_refused() {
        let svg = |body: &str| {
            format!(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">{body}</svg>"#)
        };
        for (bad, why) in [
            (svg("<script>alert(1)</script>"), "<script>"),
            (svg("<SCRIPT>alert(1)</SCRIPT>"), "<SCRIPT>"),
            (svg("<svg:script>x</svg:script>"), "<svg:script>"),
            (svg(r#"<path d="M0 0" onload="x()"/>"#), "onload"),
            (svg(r#"<path d="M0 0" ONCLICK = 'x()'/>"#), "ONCLICK"),
            (svg(r#"<image href="https://evil.example/a.png"/>"#), "href"),
            (
                svg(r#"<use xlink:href="http://evil.example/s.svg#a"/>"#),
                "xlink:href",
            ),
            (
                svg(r#"<image href="data:image/png;base64,AAAA"/>"#),
                "data:",
            ),
            (
                svg(r#"<a href="&#106;avascript:x()"><path d="M0 0"/></a>"#),
                "href",
            ),
            (
                svg(r#"<path style="fill:url(https://evil.example/f)"/>"#),
                "url(",
            ),
            (
                svg("<style>@import 'https://evil.example/x.css';</style>"),
                "@import",
            ),
            (
                svg("<foreignObject><div/></foreignObject>"),
                "foreignObject",
            ),
            ("<!DOCTYPE svg [<!ENTITY x 'y'>]><svg/>".into(), "DOCTYPE"),
            ("<html><script/></html>".into(), "<html>"),
            (svg("<path d=\"M0 0\">"), "not closed"),
            ("just text".into(), "no <svg>"),
            (svg(&format!("<!-- {} -->", "x".repeat(33 * 1024))), "bytes"),
        ] {
            let err = format!("{:#}", check(bad.as_bytes()).expect_err(why));
            assert!(err.contains(why), "{why}: {err}");
        }
    }
}
