//! Category icons: SVG files of the city pack, checked at import and served as `/icons/{code}.svg`.
use serde_json::Value;

use crate::common::{krakow_pack, repo_root, spawn_app};

#[tokio::test]
async fn every_category_of_krakow_has_an_svg_icon_served_with_its_headers() {
    let app = spawn_app().await;
    let cats = app.get_json("/api/v1/categories").await;
    let cats = cats["categories"].as_array().unwrap();
    assert_eq!(cats.len(), 13);
    for c in cats {
        let code = c["code"].as_str().unwrap();
        assert!(
            c["icon"].as_str().is_some_and(|i| !i.is_empty()),
            "{code}: the text symbol stays"
        );
        let url = c["icon_url"]
            .as_str()
            .unwrap_or_else(|| panic!("{code} has no icon_url: {c}"));
        assert_eq!(url, app.url(&format!("/icons/{code}.svg")), "absolute");
        let r = app.client.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "image/svg+xml", "{code}");
        assert_eq!(h["cache-control"], "public, max-age=86400", "{code}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{code}");
        assert_eq!(
            h["content-security-policy"], "default-src 'none'; style-src 'unsafe-inline'",
            "{code}: an icon opened on its own runs nothing"
        );
        assert_eq!(h["access-control-allow-origin"], "*", "a public read");
        let body = r.text().await.unwrap();
        zglos::icons::check(body.as_bytes()).unwrap_or_else(|e| panic!("{code}: {e:#}"));
        assert!(body.contains("viewBox=\"0 0 24 24\""), "{code}: 24×24");
        let file =
            std::fs::read_to_string(krakow_pack().join(format!("icons/{code}.svg"))).unwrap();
        assert_eq!(body, file, "{code}: the pack's file as it is");
    }
}

#[tokio::test]
async fn an_unknown_icon_is_a_404_error_body() {
    let app = spawn_app().await;
    for path in [
        "/icons/no_such_category.svg",
        "/icons/pothole",
        "/icons/pothole.png",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unknown_icon", "{path}: {body}");
        assert_eq!(body["error"]["field"], "file", "{path}");
        assert!(body["error"]["message"].is_string());
    }
}

/// A copy of the twin city whose litter icon is `svg`; the import's stderr and whether it failed.
fn import_with_icon(name: &str, svg: &str) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("zglos-icons-{name}-{}", std::process::id()));
    let src = repo_root().join("tests/fixtures/twin-city");
    std::fs::create_dir_all(dir.join("icons")).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let csv = std::fs::read_to_string(src.join("categories.csv")).unwrap();
    let mut lines = csv.lines();
    let mut out = format!("{},icon_file\n", lines.next().unwrap());
    for line in lines.filter(|l| !l.is_empty()) {
        let file = if line.starts_with("litter,") {
            "icons/litter.svg"
        } else {
            ""
        };
        out.push_str(&format!("{line},{file}\n"));
    }
    std::fs::write(dir.join("categories.csv"), out).unwrap();
    std::fs::write(dir.join("icons/litter.svg"), svg).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zglos"))
        .args([
            "import-city",
            dir.to_str().unwrap(),
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/zglos_no_such_db",
        ])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_import_refuses_an_icon_with_a_script_and_names_the_file() {
    let (ok, stderr) = import_with_icon(
        "script",
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><script>alert(1)</script><path d="M2 2h20"/></svg>"#,
    );
    assert!(!ok);
    let line = stderr
        .lines()
        .find(|l| l.contains("error"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("icons/litter.svg"), "names the file: {line}");
    assert!(line.contains("<script>"), "says why: {line}");

    // The same pack with a clean icon gets past the pack (to the database, which does not exist).
    let (ok, stderr) = import_with_icon(
        "clean",
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M2 2h20"/></svg>"#,
    );
    assert!(!ok);
    assert!(!stderr.contains("litter.svg"), "{stderr}");
    assert!(!stderr.contains("icon"), "{stderr}");
}
