//! `zglos check` against a running service: no difference when the service and the database
//! agree; a change made in the database behind the service's back (no `rev`, no notification) is
//! reported.
use crate::common::*;
use sqlx::Executor;
use zglos::commands::check::{check, CheckArgs};
use zglos::config::DatabaseArgs;

fn args(app: &TestApp, settle_seconds: u64) -> CheckArgs {
    CheckArgs {
        db: DatabaseArgs {
            database_url: app.db.url.clone(),
        },
        url: app.address.clone(),
        sample: 4,
        settle_seconds,
    }
}

async fn some_reports(app: &TestApp) -> Vec<u64> {
    let mut ids = Vec::new();
    for i in 0..6 {
        let (lon, lat) = offset(RYNEK.0, RYNEK.1, 40.0 * i as f64, 0.0);
        let created = app
            .report(&point_report("pothole", lon, lat, &format!("check {i}")))
            .await;
        ids.push(created["properties"]["id"].as_u64().unwrap());
    }
    // One duplicate (same place as the first), so dedup originals and reports differ.
    app.report(&point_report("pothole", RYNEK.0, RYNEK.1, "again"))
        .await;
    ids
}

#[tokio::test]
async fn a_healthy_service_shows_no_difference() {
    let app = spawn_app().await;
    some_reports(&app).await;
    let outcome = check(&args(&app, 10)).await.expect("the check runs");
    assert!(outcome.differences.is_empty(), "{:#?}", outcome.differences);
    assert_eq!(outcome.database.reports, 7);
    assert_eq!(outcome.database.dedup_originals["pothole"], 6);
    assert!(outcome.tiles >= 4, "tiles compared: {}", outcome.tiles);
}

#[tokio::test]
async fn a_change_behind_the_services_back_is_reported() {
    let app = spawn_app().await;
    let ids = some_reports(&app).await;
    // Triggers off: the row changes without a new rev, so no catch-up will ever bring it in.
    let mut conn = app.pool.acquire().await.unwrap();
    conn.execute("SET session_replication_role = replica")
        .await
        .unwrap();
    sqlx::query("UPDATE reports SET status = 'resolved' WHERE id = $1")
        .bind(ids[2] as i64)
        .execute(&mut *conn)
        .await
        .unwrap();
    conn.execute("SET session_replication_role = origin")
        .await
        .unwrap();
    drop(conn);
    let outcome = check(&args(&app, 2)).await.expect("the check runs");
    let d = outcome.differences.join("\n");
    assert!(
        d.contains("reports pothole/new: service 6 database 5"),
        "{d}"
    );
    assert!(
        d.contains("reports pothole/resolved: service 0 database 1"),
        "{d}"
    );
    assert!(
        d.contains("dedup originals pothole: service 6 database 5"),
        "{d}"
    );
    assert!(
        d.contains("tile /tiles/reports/"),
        "a served tile differs too: {d}"
    );
}
