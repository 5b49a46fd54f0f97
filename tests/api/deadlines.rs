//! Deadlines in working days: each report gets a response and a fix date at routing from the
//! city's targets and calendar; the expected date residents see starts as the fix date and
//! moves when staff set their own; the inbox's overdue follows the real dates.
use crate::common::*;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use zglos::auth::Role;
use zglos::domain::calendar::{Calendar, Deadlines, Target};

async fn dates(
    app: &TestApp,
    id: i64,
) -> (Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>) {
    sqlx::query_as("SELECT response_due, fix_due, expected_at FROM reports WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn created_at(v: &Value) -> DateTime<Utc> {
    v["properties"]["created_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_report_is_given_its_response_and_fix_dates_in_working_days_at_routing() {
    let app = spawn_app().await;
    let v = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Dziura"))
        .await;
    let id = v["id"].as_i64().unwrap();
    // Kraków's targets.csv: potholes 2 working days to respond, 10 to fix, on the Polish calendar.
    let want = Deadlines::from_target(
        &Calendar::default(),
        created_at(&v),
        Target::parse(2, 10).unwrap(),
    );
    let (response, fix, expected) = dates(&app, id).await;
    assert_eq!(
        (response, fix),
        (Some(want.response_due), Some(want.fix_due))
    );
    assert_eq!(
        expected,
        Some(want.fix_due),
        "residents are told the fix date"
    );
    // The public report and the tracking page's data carry it.
    assert_eq!(v["properties"]["expected_at"], json!(want.fix_due));
    let public = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(public["properties"]["expected_at"], json!(want.fix_due));
    // A category without a target gets no dates (none in Kraków: every category has one).
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let inbox: Value = app
        .staff_get(&clerk, "/api/v1/staff/inbox")
        .await
        .json()
        .await
        .unwrap();
    let item = inbox["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap();
    assert_eq!(item["properties"]["response_due"], json!(want.response_due));
    assert_eq!(item["properties"]["fix_due"], json!(want.fix_due));
    assert_eq!(item["properties"]["overdue"], false);
}

#[tokio::test]
async fn overdue_in_the_inbox_follows_the_response_and_fix_dates() {
    let app = spawn_app().await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let id = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Dziura"))
        .await["id"]
        .as_i64()
        .unwrap();
    let overdue = || async {
        let inbox: Value = app
            .staff_get(&clerk, "/api/v1/staff/inbox")
            .await
            .json()
            .await
            .unwrap();
        let item = inbox["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap();
        (
            item["properties"]["overdue"].clone(),
            inbox["counts"]["overdue"].clone(),
        )
    };
    assert_eq!(overdue().await, (json!(false), json!(0)));
    // Three days on, nobody has answered: the response date (2 working days) has passed.
    sqlx::query("UPDATE reports SET response_due = current_date - 1 WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        overdue().await,
        (json!(true), json!(1)),
        "no first response in time"
    );
    // A first response clears it: the fix date is still ahead.
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "acknowledged", "public_note": "Przyjęte."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(overdue().await, (json!(false), json!(0)));
    // Past the fix date it is overdue again, until staff give a new date.
    sqlx::query("UPDATE reports SET expected_at = current_date - 1 WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(overdue().await, (json!(true), json!(1)));
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "planned", "public_note": "Naprawa w przyszłym roku.", "expected_at": "2030-03-15"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(overdue().await, (json!(false), json!(0)));
    let public = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(
        public["properties"]["expected_at"], "2030-03-15",
        "staff's own date moves it"
    );
    let (_, fix, _) = dates(&app, id).await;
    assert_ne!(
        fix,
        NaiveDate::from_ymd_opt(2030, 3, 15),
        "the target date stays for the statistics"
    );
}

#[tokio::test]
async fn the_status_mail_says_when_the_fix_is_expected() {
    let (app, mailbox) = crate::moderation::mail_app().await;
    let id =
        crate::staff::report_with_contact(&app, "street_lighting", RYNEK, "anna@example.org", "pl")
            .await;
    let (_, fix, _) = dates(&app, id).await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "acknowledged", "public_note": "Przyjęte."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // The confirmation, then the change.
    let mails = mailbox.wait_for(2).await;
    let text = mails
        .iter()
        .map(|m| m.text())
        .find(|t| t.contains("zmienił się na"))
        .unwrap();
    assert!(
        text.contains(&format!(
            "Przewidywany termin: {}",
            fix.unwrap().format("%d.%m.%Y")
        )),
        "{text}"
    );
}

/// A copy of the twin city with `targets` as its targets.csv.
fn pack_with_targets(tag: &str, targets: &str) -> std::path::PathBuf {
    twin_city_copy(&format!("targets-{tag}"), |dir| {
        std::fs::write(dir.join("targets.csv"), targets).unwrap()
    })
}

#[tokio::test]
async fn a_unit_may_have_its_own_target_for_a_category() {
    let db = TestDb::empty().await;
    let pack = pack_with_targets(
        "unit",
        "category,unit,response_days,fix_days\nlitter,,1,3\nlitter,GUARD,0,1\n",
    );
    let (ok, stderr) = import_city(&pack, &db.url);
    assert!(ok, "{stderr}");
    let app = spawn_app_on(db).await;
    let cal = Calendar::default();
    // In the market the guard answers the same day and clears it the next working day.
    let market = app
        .report(&point_report("litter", 10.003, 50.003, "market"))
        .await;
    let street = app
        .report(&point_report("litter", 10.007, 50.007, "street"))
        .await;
    let pothole = app
        .report(&point_report("pothole", 10.005, 50.006, "no target"))
        .await;
    assert_eq!(market["properties"]["unit"]["code"], "GUARD");
    let want_market =
        Deadlines::from_target(&cal, created_at(&market), Target::parse(0, 1).unwrap());
    let want_street =
        Deadlines::from_target(&cal, created_at(&street), Target::parse(1, 3).unwrap());
    let got = |v: &Value| {
        let app = &app;
        let id = v["id"].as_i64().unwrap();
        async move { dates(app, id).await }
    };
    assert_eq!(got(&market).await.1, Some(want_market.fix_due));
    assert_eq!(got(&market).await.0, Some(want_market.response_due));
    assert_eq!(got(&street).await.1, Some(want_street.fix_due));
    assert_eq!(
        got(&pothole).await,
        (None, None, None),
        "no target, no dates"
    );
    assert!(pothole["properties"]["expected_at"].is_null());
    std::fs::remove_dir_all(&pack).ok();
}

#[tokio::test]
async fn a_wrong_target_is_refused_at_import_naming_the_row() {
    for (tag, targets, expect) in [
        (
            "cat",
            "category,unit,response_days,fix_days\nlitter,,1,3\nparking,,1,1\n",
            "row 3: unknown category \"parking\"",
        ),
        (
            "unit",
            "category,unit,response_days,fix_days\nlitter,NOPE,1,3\n",
            "row 2: unknown unit \"NOPE\"",
        ),
        (
            "order",
            "category,unit,response_days,fix_days\nlitter,,5,2\n",
            "row 2: fix_days (2) is before response_days (5)",
        ),
        (
            "twice",
            "category,unit,response_days,fix_days\nlitter,,1,3\nlitter,,2,4\n",
            "row 3: a second target for litter",
        ),
    ] {
        let pack = pack_with_targets(tag, targets);
        let (ok, stderr) =
            import_city(&pack, "postgres://postgres@127.0.0.1:5432/zglos_no_such_db");
        assert!(!ok, "{tag}");
        assert!(
            stderr.contains("targets.csv") && stderr.contains(expect),
            "{tag}: {stderr}"
        );
        std::fs::remove_dir_all(&pack).ok();
    }
}

/// Noon UTC on a day: the same day in Kraków, summer or winter.
fn noon(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(12, 0, 0).unwrap().and_utc()
}

#[tokio::test]
async fn a_late_report_escalates_to_its_unit_and_the_admins_once_per_deadline_and_units_get_a_weekly_digest(
) {
    use chrono::{Datelike, Duration, Weekday};
    use zglos::app::deadlines::sweep;
    let (app, mailbox) = crate::moderation::mail_app().await;
    app.staff("admin@city.example", &[Role::Admin], &[]).await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let v = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Dziura"))
        .await;
    let id = v["id"].as_i64().unwrap();
    let (response_due, fix_due, _) = dates(&app, id).await;
    let (response_due, fix_due) = (response_due.unwrap(), fix_due.unwrap());
    let catalogue = zglos::storage::city::load(&app.pool).await.unwrap();
    let run = |at: DateTime<Utc>| {
        let (pool, catalogue) = (&app.pool, &catalogue);
        async move {
            sweep(pool, catalogue, "http://zglos.example", at)
                .await
                .unwrap()
        }
    };

    // Just filed: nothing to say.
    let s = run(created_at(&v)).await;
    assert_eq!((s.warnings, s.overdue, s.no_response), (0, 0, 0));
    // The day after the response date, unanswered: "no response", to ZDMK's contact and the admin.
    let s = run(noon(response_due + Duration::days(1))).await;
    assert_eq!((s.no_response, s.warnings, s.overdue), (1, 0, 0), "{s:?}");
    let again = run(noon(response_due + Duration::days(1))).await;
    assert_eq!(
        again.no_response, 0,
        "once per deadline, however many sweeps"
    );
    // Answered; on the fix date most of its working days are gone: a warning.
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "acknowledged", "public_note": "Przyjęte."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let s = run(noon(fix_due)).await;
    assert_eq!((s.warnings, s.overdue, s.no_response), (1, 0, 0), "{s:?}");
    // A fix date that falls on the digest day also brings that week's digest.
    let early = s.digests;
    // The day after: overdue.
    let s = run(noon(fix_due + Duration::days(1))).await;
    assert_eq!((s.warnings, s.overdue), (0, 1), "{s:?}");
    // Staff move the date: the new deadline can escalate again, the old one never.
    // A date whose next day is not the digest day: that sweep sends no digest of its own.
    let mut later = fix_due + Duration::days(30);
    while (later + Duration::days(1)).weekday() == Weekday::Mon {
        later += Duration::days(1);
    }
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "planned", "public_note": "Naprawa później.", "expected_at": later.to_string()}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let s = run(noon(later + Duration::days(1))).await;
    assert_eq!((s.overdue, s.digests), (1, 0), "{s:?}");
    // The digest day: ZDMK gets one digest, once.
    let mut monday = later + Duration::days(2);
    while monday.weekday() != Weekday::Mon {
        monday += Duration::days(1);
    }
    let s = run(noon(monday)).await;
    assert_eq!(s.digests, 1, "{s:?}");
    assert_eq!(run(noon(monday)).await.digests, 0);

    // Every escalation went to both; 4 escalations and 1 digest = 10 mails (besides none to the
    // resident). Mail is sent at least once: a message sent again (its "sent" mark lost, or the
    // server's answer late on a busy machine) carries the same Message-ID, which a receiving
    // server recognises; count messages by it.
    let mut mails = mailbox.wait_for(10 + 2 * early).await;
    let message_id = |m: &crate::common::smtp::Mail| {
        m.data
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .map(str::to_owned)
    };
    let mut seen = std::collections::HashSet::new();
    mails.retain(|m| message_id(m).is_none_or(|id| seen.insert(id)));
    let subjects: Vec<String> = mails
        .iter()
        .map(|m| {
            m.text()
                .lines()
                .find(|l| l.starts_with("Subject:"))
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    let to_unit = mails
        .iter()
        .filter(|m| m.to == vec!["zgloszenia@zdmk.krakow.pl".to_string()])
        .count();
    let to_admin = mails
        .iter()
        .filter(|m| m.to == vec!["admin@city.example".to_string()])
        .count();
    assert_eq!((to_unit, to_admin), (5 + early, 5 + early), "{subjects:?}");
    // And nothing beyond them was queued.
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(queued, 10 + 2 * early as i64);
    let text: String = mails.iter().map(|m| m.text()).collect();
    let day = |d: NaiveDate| d.format("%d.%m.%Y").to_string();
    for needle in [
        format!("Termin pierwszej odpowiedzi minął {}", day(response_due)),
        format!("Termin usunięcia mija {}", day(fix_due)),
        format!("Termin usunięcia minął {}", day(fix_due)),
        "Otwarte: 1".to_owned(),
        "Po terminie: 1".to_owned(),
        format!("http://zglos.example/staff#/report/{id}"),
        format!("Termin usunięcia minął {}", later.format("%d.%m.%Y")),
    ] {
        assert!(text.contains(&needle), "{needle} in {subjects:?}");
    }
}

#[tokio::test]
async fn stats_show_per_unit_and_category_how_deadlines_are_kept_also_as_csv() {
    let app = spawn_app().await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let mut ids = Vec::new();
    for (i, category) in ["pothole", "pothole", "street_lighting"]
        .into_iter()
        .enumerate()
    {
        let v = app
            .report(&point_report(
                category,
                RYNEK.0 + 0.003 * i as f64,
                RYNEK.1,
                "x",
            ))
            .await;
        ids.push(v["id"].as_i64().unwrap());
    }
    let set = |id: i64, status: &'static str| {
        let (app, clerk) = (&app, &clerk);
        async move {
            let r = app
                .staff_post(
                    clerk,
                    &format!("/api/v1/staff/reports/{id}/status"),
                    &json!({"status": status, "public_note": "ok"}),
                )
                .await;
            assert_eq!(r.status(), 200, "{status}");
        }
    };
    // Two resolved today (on time: their targets are days ahead), one of them then late on paper.
    set(ids[0], "resolved").await;
    set(ids[1], "resolved").await;
    sqlx::query("UPDATE reports SET fix_due = current_date - 3 WHERE id = $1")
        .bind(ids[1])
        .execute(&app.pool)
        .await
        .unwrap();
    let v = app.get_json("/api/v1/stats").await;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let zdmk = v["deadlines"]["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["unit"] == "ZDMK" && f["month"] == json!(month))
        .cloned()
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(zdmk["name"], "Zarząd Dróg Miasta Krakowa");
    assert_eq!(
        (zdmk["reported"].clone(), zdmk["resolved"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(zdmk["on_time_share"], 0.5);
    assert_eq!(zdmk["median_working_days_to_first_response"], 0.0);
    assert_eq!(zdmk["reopened_share"], 0.0);
    let pothole = v["deadlines"]["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["category"] == "pothole")
        .cloned()
        .unwrap();
    assert_eq!(
        (
            pothole["reported"].clone(),
            pothole["resolved_on_time"].clone()
        ),
        (json!(2), json!(1))
    );
    assert_eq!(v["deadlines"]["months"], 12);

    let r = app.get("/api/v1/stats.csv?months=3").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "group,key,name,month,reported,resolved,resolved_with_deadline,resolved_on_time,on_time_share,median_working_days_to_first_response,median_working_days_to_resolve,reopened,reopened_share"
    );
    assert!(
        text.contains(&format!(
            "unit,ZDMK,Zarząd Dróg Miasta Krakowa,{month},3,2,2,1,0.5,0,0,0,0"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "category,pothole,Dziura w jezdni,{month},2,2,2,1,0.5"
        )),
        "{text}"
    );
    let r = app.get("/api/v1/stats?months=0").await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "months");

    // Staff taking a resolved report back counts as a reopening, as a resident's does (once
    // resolved again, it is one of the resolved that were reopened).
    set(ids[0], "acknowledged").await;
    set(ids[0], "resolved").await;
    let v = app.get_json("/api/v1/stats").await;
    let zdmk = v["deadlines"]["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["unit"] == "ZDMK" && f["month"] == json!(month))
        .cloned()
        .unwrap();
    assert_eq!(zdmk["reopened"], 1, "{zdmk}");
    assert_eq!(zdmk["reopened_share"], 0.5, "{zdmk}");
}
