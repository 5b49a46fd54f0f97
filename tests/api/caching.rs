//! Tiles that caches in front can keep: a strong ETag from what the tile shows, 304 for a
//! revalidation that names it, a new ETag once a report in the tile changes, and Cache-Control
//! from the settings (public report tiles, private heatmaps, long-lived district and basemap
//! tiles).
use zglos::auth::Role;

use crate::common::*;

async fn get(app: &TestApp, path: &str, etag: Option<&str>, gzip: bool) -> reqwest::Response {
    let mut r = app.client.get(app.url(path));
    if gzip {
        r = r.header("accept-encoding", "gzip");
    }
    if let Some(e) = etag {
        r = r.header("if-none-match", e);
    }
    r.send().await.unwrap()
}

fn etag(r: &reqwest::Response) -> String {
    r.headers()["etag"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_report_tile_revalidates_with_304_until_a_report_in_it_changes() {
    let app = spawn_app().await;
    app.report(&point_report("pothole", RYNEK.0, RYNEK.1, "Dziura"))
        .await;
    let (z, x, y) = tile_of(16, RYNEK.0, RYNEK.1);
    let path = format!("/tiles/reports/{z}/{x}/{y}.mvt");

    let first = get(&app, &path, None, true).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["cache-control"],
        "public, max-age=2, stale-while-revalidate=5"
    );
    let tag = etag(&first);
    assert!(
        tag.starts_with('"') && tag.ends_with("-gz\""),
        "a strong tag of the gzipped form: {tag}"
    );
    // The plain form has a tag of its own.
    let plain = get(&app, &path, None, false).await;
    assert_ne!(etag(&plain), tag);

    // Revalidation: 304, no body, the same tag; a weak or listed match counts too.
    for given in [tag.clone(), format!("W/{tag}"), format!("\"other\", {tag}")] {
        let again = get(&app, &path, Some(&given), true).await;
        assert_eq!(again.status(), 304, "{given}");
        assert_eq!(etag(&again), tag);
        assert!(again.bytes().await.unwrap().is_empty());
    }

    // A second report in the tile: the old tag no longer matches.
    app.report(&point_report("pothole", RYNEK.0 + 0.0004, RYNEK.1, "Druga"))
        .await;
    let changed = get(&app, &path, Some(&tag), true).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(etag(&changed), tag);
    // And the same content gives the same tag, however often it is built.
    let same = get(&app, &path, None, true).await;
    assert_eq!(etag(&same), etag(&changed));
}

#[tokio::test]
async fn district_basemap_and_heatmap_tiles_carry_their_own_cache_rules() {
    let app = spawn_app_with(TestDb::new().await, |url| {
        let mut c = config(url);
        c.cache.tile_max_age = 0;
        c.cache.tile_stale_while_revalidate = 30;
        c
    })
    .await;
    let (z, x, y) = tile_of(12, RYNEK.0, RYNEK.1);
    for path in [
        format!("/tiles/districts/{z}/{x}/{y}.mvt"),
        format!("/tiles/basemap/{z}/{x}/{y}.mvt"),
    ] {
        let r = get(&app, &path, None, true).await;
        assert_eq!(r.status(), 200, "{path}");
        let cc = r.headers()["cache-control"].to_str().unwrap().to_owned();
        assert!(cc.starts_with("public, max-age="), "{path}: {cc}");
        let tag = etag(&r);
        assert_eq!(
            get(&app, &path, Some(&tag), true).await.status(),
            304,
            "{path}"
        );
    }
    // The settings shape the report tiles' header.
    let r = get(&app, &format!("/tiles/reports/{z}/{x}/{y}.mvt"), None, true).await;
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=0, stale-while-revalidate=30"
    );
    // A heatmap is for staff: private.
    let analyst = app
        .staff("analyst@city.example", &[Role::Analyst], &[])
        .await;
    let r = app
        .client
        .get(app.url(&format!("/tiles/heatmap/{z}/{x}/{y}.mvt")))
        .header("cookie", &analyst.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "private, no-cache");
    assert!(r.headers().get("etag").is_some());
}
