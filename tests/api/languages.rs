//! Languages: category and status names as data of the city pack in any number of languages,
//! the interface language negotiated from `Accept-Language`, and a resident's language kept
//! with what they file.
use crate::common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn categories_and_statuses_are_named_in_ukrainian_as_the_city_pack_says() {
    let app = spawn_app().await;
    let cats = app.get_json("/api/v1/categories").await;
    let pothole = cats["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "pothole")
        .unwrap()
        .clone();
    assert_eq!(pothole["name_pl"], "Dziura w jezdni");
    assert_eq!(pothole["name_en"], "Pothole");
    assert_eq!(pothole["name_uk"], "Яма на дорозі");
    assert_eq!(
        pothole["names"],
        json!({"pl": "Dziura w jezdni", "en": "Pothole", "uk": "Яма на дорозі"})
    );
    let statuses = app.get_json("/api/v1/statuses").await;
    let resolved = statuses["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "resolved")
        .unwrap()
        .clone();
    assert_eq!(
        (&resolved["name_pl"], &resolved["name_uk"]),
        (&json!("Rozwiązane"), &json!("Вирішене"))
    );
    let config = app.get_json("/api/v1/config").await;
    assert_eq!(config["languages"], json!(["pl", "en", "uk"]));
}

/// A copy of the twin city whose categories and statuses are also named in German and Silesian.
fn multilingual_pack(tag: &str, statuses: &str) -> std::path::PathBuf {
    twin_city_copy(&format!("names-{tag}"), |dir| {
        let csv = std::fs::read_to_string(dir.join("categories.csv")).unwrap();
        let mut out = String::new();
        for (i, line) in csv.lines().filter(|l| !l.is_empty()).enumerate() {
            let (de, szl) = match (i, line.split(',').next()) {
                (0, _) => ("name_de", "name_szl"),
                (_, Some("litter")) => ("Abfall", "Śmiecie"),
                _ => ("", ""),
            };
            out.push_str(&format!("{line},{de},{szl}\n"));
        }
        std::fs::write(dir.join("categories.csv"), out).unwrap();
        std::fs::write(dir.join("statuses.csv"), statuses).unwrap();
    })
}

#[tokio::test]
async fn a_city_pack_may_name_things_in_any_number_of_languages() {
    let db = TestDb::empty().await;
    let pack = multilingual_pack(
        "ok",
        "code,name_pl,name_en,name_de\nresolved,Naprawione,Fixed,Behoben\n",
    );
    let (ok, stderr) = import_city(&pack, &db.url);
    assert!(ok, "{stderr}");
    let app = spawn_app_on(db).await;
    let cats = app.get_json("/api/v1/categories").await;
    let list = cats["categories"].as_array().unwrap();
    let litter = list.iter().find(|c| c["code"] == "litter").unwrap();
    assert_eq!(litter["name_de"], "Abfall");
    assert_eq!(litter["name_szl"], "Śmiecie");
    assert_eq!(litter["names"]["szl"], "Śmiecie");
    assert!(
        litter.get("name_uk").is_none(),
        "no Ukrainian in this pack: {litter}"
    );
    // A blank cell is no name: the interface falls back to the city's first language.
    let pothole = list.iter().find(|c| c["code"] == "pothole").unwrap();
    assert!(pothole.get("name_de").is_none() && pothole["names"].get("de").is_none());
    // statuses.csv renames the statuses it lists and leaves the others as they were.
    let statuses = app.get_json("/api/v1/statuses").await;
    let by_code = |code: &str| {
        statuses["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            by_code("resolved")["name_en"].clone(),
            by_code("resolved")["name_de"].clone()
        ),
        (json!("Fixed"), json!("Behoben"))
    );
    assert_eq!(by_code("new")["name_pl"], "Nowe");
    std::fs::remove_dir_all(&pack).ok();
}

#[tokio::test]
async fn a_status_the_service_does_not_have_cannot_be_named() {
    let db = TestDb::empty().await;
    let pack = multilingual_pack("bad", "code,name_pl,name_en\nfixed_maybe,Może,Maybe\n");
    let (ok, stderr) = import_city(&pack, &db.url);
    assert!(!ok);
    assert!(
        stderr.contains("statuses.csv")
            && stderr.contains("fixed_maybe")
            && stderr.contains("resolved"),
        "names the file, the code and the statuses there are: {stderr}"
    );
    // A category without its Polish name is refused, naming the row.
    let pack2 = multilingual_pack("nopl", "code,name_pl,name_en\n");
    let csv = std::fs::read_to_string(pack2.join("categories.csv")).unwrap();
    std::fs::write(
        pack2.join("categories.csv"),
        csv.replacen("litter,Śmieci,", "litter,,", 1),
    )
    .unwrap();
    let (ok, stderr) = import_city(&pack2, &TestDb::empty().await.url);
    assert!(!ok);
    assert!(
        stderr.contains("row 2") && stderr.contains("name_pl"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&pack).ok();
    std::fs::remove_dir_all(&pack2).ok();
}

async fn language_for(app: &TestApp, accept: Option<&str>) -> (Value, Option<String>) {
    let mut req = app.client.get(app.url("/api/v1/language"));
    if let Some(a) = accept {
        req = req.header("Accept-Language", a);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let vary = r
        .headers()
        .get("vary")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.json().await.unwrap(), vary)
}

#[tokio::test]
async fn a_first_visit_gets_the_language_its_browser_asks_for() {
    let app = spawn_app().await;
    let (v, vary) = language_for(&app, Some("uk-UA,uk;q=0.9,en-US;q=0.8,en;q=0.7")).await;
    assert_eq!(
        (v["lang"].clone(), v["negotiated"].clone()),
        (json!("uk"), json!(true))
    );
    assert!(vary.unwrap_or_default().contains("Accept-Language"));
    let (v, _) = language_for(&app, Some("de-DE,de;q=0.9,en;q=0.4")).await;
    assert_eq!(v["lang"], "en");
    let (v, _) = language_for(&app, Some("fr-FR")).await;
    assert_eq!(
        (v["lang"].clone(), v["negotiated"].clone()),
        (json!("pl"), json!(false))
    );
    let (v, _) = language_for(&app, None).await;
    assert_eq!(v["lang"], "pl");
    assert_eq!(v["languages"], json!(["pl", "en", "uk"]));
}

#[tokio::test]
async fn a_report_keeps_the_language_it_was_filed_in() {
    let app = spawn_app().await;
    let lang_of = |id: i64| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT lang FROM reports WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    // Said in the body.
    let mut body = point_report("pothole", RYNEK.0, RYNEK.1, "Яма біля ринку");
    body["properties"]["lang"] = json!("uk");
    let v = app.report(&body).await;
    assert_eq!(lang_of(v["id"].as_i64().unwrap()).await, "uk");
    // Not said: the browser's Accept-Language decides.
    let r = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("Accept-Language", "uk;q=0.8, de")
        .json(&point_report(
            "graffiti",
            RYNEK.0 + 0.004,
            RYNEK.1,
            "Графіті",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(lang_of(v["id"].as_i64().unwrap()).await, "uk");
    // A language the service does not write in is a clear 400.
    let mut body = point_report("pothole", RYNEK.0 + 0.008, RYNEK.1, "x");
    body["properties"]["lang"] = json!("de");
    let r = app.post_json("/api/v1/reports", &body).await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "properties.lang");
    assert_eq!(
        e["error"]["message"],
        "lang must be \"pl\", \"en\" or \"uk\""
    );
}

#[tokio::test]
async fn open311_names_services_in_the_language_asked_for() {
    let app = spawn_app().await;
    let services: Value = serde_json::from_str(
        &app.get("/open311/v2/services.json?lang=uk")
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let pothole = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "pothole")
        .unwrap()
        .clone();
    assert_eq!(pothole["service_name"], "Яма на дорозі");
    let english: Value = serde_json::from_str(
        &app.get("/open311/v2/services.json")
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(english
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["service_name"] == "Pothole"));
    let r = app.get("/open311/v2/services.json?lang=xx").await;
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("lang") && body.contains("uk"), "{body}");
    // Filing with attribute[lang]=uk keeps Ukrainian for the updates.
    let def = app
        .get("/open311/v2/services/pothole.json")
        .await
        .text()
        .await
        .unwrap();
    assert!(def.contains("\"uk\""), "{def}");
}
