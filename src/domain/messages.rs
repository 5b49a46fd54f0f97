//! The texts the service sends to residents, in their language.
use super::Lang;

/// The texts of a status-change message, in the resident's language, with the date the city
/// expects the fix by while the report is open.
pub fn status_message(
    lang: Lang,
    report_id: i64,
    status_name: &str,
    public_note: &str,
    link: &str,
    expected: Option<chrono::NaiveDate>,
) -> (String, String) {
    let (subject, body) = status_texts(lang, report_id, status_name, public_note, link);
    match expected {
        Some(date) => {
            let line = match lang {
                Lang::Pl => format!("Przewidywany termin: {}", date.format("%d.%m.%Y")),
                Lang::En => format!("Expected by: {}", date.format("%-d %B %Y")),
                Lang::Uk => format!("Очікуваний термін: {}", date.format("%d.%m.%Y")),
            };
            // After the note, before the link.
            let body = match body.split_once("\n\n") {
                Some((greeting, rest)) => match rest.split_once("\n\n") {
                    Some((changed, rest)) => format!("{greeting}\n\n{changed}\n{line}\n\n{rest}"),
                    None => format!("{body}\n{line}\n"),
                },
                None => format!("{body}\n{line}\n"),
            };
            (subject, body)
        }
        None => (subject, body),
    }
}

fn status_texts(
    lang: Lang,
    report_id: i64,
    status_name: &str,
    public_note: &str,
    link: &str,
) -> (String, String) {
    match lang {
        Lang::En => (
            format!("Your report #{report_id}: {status_name}"),
            format!(
                "Hello,\n\nthe status of report #{report_id} changed to: {status_name}.\n\n{public_note}\n\nFollow the report: {link}\n\n-- \nZgłoś, the city's e-map of reports\n"
            ),
        ),
        Lang::Uk => (
            format!("Ваше звернення №{report_id}: {status_name}"),
            format!(
                "Добрий день!\n\nСтатус звернення №{report_id} змінився на: {status_name}.\n\n{public_note}\n\nСтежити за зверненням можна тут: {link}\n\n-- \nZgłoś, міська електронна карта звернень\n"
            ),
        ),
        Lang::Pl => (
            format!("Twoje zgłoszenie #{report_id}: {status_name}"),
            format!(
                "Dzień dobry,\n\nstatus zgłoszenia #{report_id} zmienił się na: {status_name}.\n\n{public_note}\n\nZgłoszenie można śledzić tutaj: {link}\n\n-- \nZgłoś, miejska e-mapa zgłoszeń\n"
            ),
        ),
    }
}

/// The message a reporter gets right after filing: the report's number, who handles it and
/// by when, and where to follow it (the signed links to manage it follow, see
/// `app::moderation::mail_links`).
pub fn confirmation_message(
    lang: Lang,
    report_id: i64,
    unit: Option<&str>,
    expected: Option<chrono::NaiveDate>,
    duplicate_of: Option<i64>,
    link: &str,
) -> (String, String) {
    let day = |d: chrono::NaiveDate| d.format("%d.%m.%Y").to_string();
    match lang {
        Lang::Pl => {
            let mut b =
                format!("Dzień dobry,\n\ndziękujemy za zgłoszenie. Ma numer #{report_id}.\n");
            if let Some(o) = duplicate_of {
                b.push_str(&format!("To samo zgłosił już ktoś inny: dołączyliśmy Pana/Pani głos do zgłoszenia #{o}.\n"));
            }
            b.push_str(&format!(
                "Odpowiada: {}\n",
                unit.unwrap_or("jednostka zostanie wskazana przez pracowników miasta")
            ));
            if let Some(d) = expected {
                b.push_str(&format!("Przewidywany termin: {}\n", day(d)));
            }
            b.push_str(&format!(
                "\nZgłoszenie można śledzić tutaj: {link}\n\n-- \nZgłoś, miejska e-mapa zgłoszeń\n"
            ));
            (format!("Zgłoszenie #{report_id} przyjęte"), b)
        }
        Lang::En => {
            let mut b =
                format!("Hello,\n\nthank you for your report. Its number is #{report_id}.\n");
            if let Some(o) = duplicate_of {
                b.push_str(&format!(
                    "Someone had already reported this: your voice was added to report #{o}.\n"
                ));
            }
            b.push_str(&format!(
                "Handled by: {}\n",
                unit.unwrap_or("city staff will assign the unit")
            ));
            if let Some(d) = expected {
                b.push_str(&format!("Expected by: {}\n", d.format("%-d %B %Y")));
            }
            b.push_str(&format!(
                "\nFollow the report: {link}\n\n-- \nZgłoś, the city's e-map of reports\n"
            ));
            (format!("Report #{report_id} received"), b)
        }
        Lang::Uk => {
            let mut b = format!("Добрий день!\n\nДякуємо за звернення. Його номер №{report_id}.\n");
            if let Some(o) = duplicate_of {
                b.push_str(&format!(
                    "Про це вже повідомив хтось інший: ваш голос додано до звернення №{o}.\n"
                ));
            }
            b.push_str(&format!(
                "Відповідальний підрозділ: {}\n",
                unit.unwrap_or("підрозділ призначать працівники міста")
            ));
            if let Some(d) = expected {
                b.push_str(&format!("Очікуваний термін: {}\n", day(d)));
            }
            b.push_str(&format!("\nСтежити за зверненням можна тут: {link}\n\n-- \nZgłoś, міська електронна карта звернень\n"));
            (format!("Звернення №{report_id} прийнято"), b)
        }
    }
}

/// What a page opened from a signed link in a message says: its title and what following the
/// link does, for the given language.
pub fn link_page(
    purpose: super::moderation::LinkPurpose,
    lang: Lang,
) -> (&'static str, &'static str) {
    use super::moderation::LinkPurpose::{Fixed, Follow, Forget, Manage, NotFixed, Stop, Withdraw};
    match (purpose, lang) {
        (Manage, Lang::Pl) => ("Twoje zgłoszenie", "Co chcesz zrobić?"),
        (Manage, Lang::En) => ("Your report", "What would you like to do?"),
        (Manage, Lang::Uk) => ("Ваше звернення", "Що ви хочете зробити?"),
        (Stop, Lang::Pl) => (
            "Wstrzymaj wiadomości",
            "Nie wyślemy więcej wiadomości o tym zgłoszeniu; dane kontaktowe zostają, możesz je wznowić.",
        ),
        (Stop, Lang::En) => (
            "Stop updates",
            "No more messages about this report; your contact data stay, and you can resume them.",
        ),
        (Stop, Lang::Uk) => (
            "Призупинити повідомлення",
            "Повідомлень про це звернення більше не буде; контактні дані залишаться, ви можете їх відновити.",
        ),
        (Follow, Lang::Pl) => ("Wznów wiadomości", "Znów będziesz dostawać wiadomości o tym zgłoszeniu."),
        (Follow, Lang::En) => ("Resume updates", "You will get messages about this report again."),
        (Follow, Lang::Uk) => ("Відновити повідомлення", "Ви знову отримуватимете повідомлення про це звернення."),
        (Fixed, Lang::Pl) => ("Naprawione", "Potwierdzam, że problem został usunięty."),
        (Fixed, Lang::En) => ("Fixed", "I confirm that the problem has been fixed."),
        (Fixed, Lang::Uk) => ("Виправлено", "Підтверджую, що проблему усунено."),
        (NotFixed, Lang::Pl) => (
            "Nie naprawione",
            "Zgłoszenie wróci do jednostki miasta. Napisz, co jest nie tak.",
        ),
        (NotFixed, Lang::En) => (
            "Not fixed",
            "The report goes back to the city unit. Say what is still wrong.",
        ),
        (NotFixed, Lang::Uk) => (
            "Не виправлено",
            "Звернення повернеться до міського підрозділу. Напишіть, що не так.",
        ),
        (Forget, Lang::Pl) => (
            "Nie chcę więcej wiadomości",
            "Adres, imię i telefon zostaną usunięte ze zgłoszenia i nie wyślemy więcej wiadomości.",
        ),
        (Forget, Lang::En) => (
            "Stop updates and forget my email",
            "Your email address, name and phone are erased from this report and no more messages are sent.",
        ),
        (Forget, Lang::Uk) => (
            "Більше не надсилати повідомлень",
            "Вашу адресу електронної пошти, ім’я та телефон буде видалено зі звернення, і повідомлення більше не надходитимуть.",
        ),
        (Withdraw, Lang::Pl) => (
            "Wycofuję zgłoszenie",
            "Zgłoszenie zniknie z publicznej mapy, a o wycofaniu zdecydują pracownicy miasta.",
        ),
        (Withdraw, Lang::En) => (
            "Withdraw my report",
            "The report is taken off the public map and city staff decide on the withdrawal.",
        ),
        (Withdraw, Lang::Uk) => (
            "Відкликати звернення",
            "Звернення зникне з публічної мапи, а про його відкликання вирішать працівники міста.",
        ),
    }
}

/// "Is it fixed?": the lines added to the message that a report was resolved, with the two
/// one-tap links.
pub fn fix_question(lang: Lang, fixed: &str, not_fixed: &str) -> String {
    match lang {
        Lang::Pl => format!("\nCzy problem został usunięty?\nTak: {fixed}\nNie: {not_fixed}\nBez odpowiedzi zgłoszenie zostanie zamknięte po 14 dniach.\n"),
        Lang::En => format!("\nIs it fixed?\nYes: {fixed}\nNo: {not_fixed}\nWithout an answer the report closes after 14 days.\n"),
        Lang::Uk => format!("\nЧи усунено проблему?\nТак: {fixed}\nНі: {not_fixed}\nЯкщо відповіді не буде, звернення закриється через 14 днів.\n"),
    }
}

/// The page after a signed link was followed: title and text.
pub fn link_done(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::Pl => ("Gotowe", "Dziękujemy."),
        Lang::En => ("Done", "Thank you."),
        Lang::Uk => ("Готово", "Дякуємо."),
    }
}

/// Why a report is escalated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escalation {
    /// Most of the working days to the fix date have gone.
    Warning,
    /// The fix date has passed.
    Overdue,
    /// The response date has passed and nobody has answered.
    NoResponse,
}

impl Escalation {
    pub fn as_str(self) -> &'static str {
        match self {
            Escalation::Warning => "warning",
            Escalation::Overdue => "overdue",
            Escalation::NoResponse => "no_response",
        }
    }
}

/// What a unit's contact and the admins are told when a report escalates.
pub struct EscalationFacts<'a> {
    pub report_id: i64,
    pub category: &'a str,
    pub unit: &'a str,
    pub address: Option<&'a str>,
    pub deadline: chrono::NaiveDate,
    pub link: &'a str,
}

pub fn escalation_message(
    lang: Lang,
    why: Escalation,
    f: &EscalationFacts<'_>,
) -> (String, String) {
    let id = f.report_id;
    let day = f.deadline.format("%d.%m.%Y");
    let place = f.address.unwrap_or("—");
    match lang {
        Lang::Pl => {
            let (subject, line) = match why {
                Escalation::Warning => (
                    format!("Zbliża się termin zgłoszenia #{id}"),
                    format!("Termin usunięcia mija {day}."),
                ),
                Escalation::Overdue => (
                    format!("Zgłoszenie #{id} po terminie"),
                    format!("Termin usunięcia minął {day}."),
                ),
                Escalation::NoResponse => (
                    format!("Zgłoszenie #{id} bez odpowiedzi"),
                    format!("Termin pierwszej odpowiedzi minął {day}."),
                ),
            };
            (subject, format!("{line}\n\nZgłoszenie #{id}: {}\nMiejsce: {place}\nJednostka: {}\n\n{}\n\n-- \nZgłoś\n", f.category, f.unit, f.link))
        }
        Lang::En => {
            let (subject, line) = match why {
                Escalation::Warning => (
                    format!("Report #{id} is nearing its deadline"),
                    format!("It is due to be fixed by {day}."),
                ),
                Escalation::Overdue => (
                    format!("Report #{id} is overdue"),
                    format!("It was due to be fixed by {day}."),
                ),
                Escalation::NoResponse => (
                    format!("Report #{id} has no response"),
                    format!("Its first response was due by {day}."),
                ),
            };
            (
                subject,
                format!(
                    "{line}\n\nReport #{id}: {}\nWhere: {place}\nUnit: {}\n\n{}\n\n-- \nZgłoś\n",
                    f.category, f.unit, f.link
                ),
            )
        }
        Lang::Uk => {
            let (subject, line) = match why {
                Escalation::Warning => (
                    format!("Наближається термін звернення №{id}"),
                    format!("Термін усунення спливає {day}."),
                ),
                Escalation::Overdue => (
                    format!("Звернення №{id} прострочене"),
                    format!("Термін усунення сплив {day}."),
                ),
                Escalation::NoResponse => (
                    format!("Звернення №{id} без відповіді"),
                    format!("Термін першої відповіді сплив {day}."),
                ),
            };
            (subject, format!("{line}\n\nЗвернення №{id}: {}\nМісце: {place}\nПідрозділ: {}\n\n{}\n\n-- \nZgłoś\n", f.category, f.unit, f.link))
        }
    }
}

/// One line of a weekly digest: an open report.
pub struct DigestLine {
    pub report_id: i64,
    pub category: String,
    pub created: chrono::NaiveDate,
    pub expected: Option<chrono::NaiveDate>,
    pub address: Option<String>,
}

/// A unit's weekly digest: how many open and overdue, and the oldest ten.
pub fn digest_message(
    lang: Lang,
    unit: &str,
    open: usize,
    overdue: usize,
    oldest: &[DigestLine],
    link: &str,
) -> (String, String) {
    let lines: String = oldest
        .iter()
        .map(|l| {
            let due = l
                .expected
                .map(|d| d.format(" → %d.%m.%Y").to_string())
                .unwrap_or_default();
            format!(
                "#{} {} ({}{due}) {}\n",
                l.report_id,
                l.category,
                l.created.format("%d.%m.%Y"),
                l.address.as_deref().unwrap_or("")
            )
        })
        .collect();
    match lang {
        Lang::Pl => (
            format!("{unit}: tygodniowe podsumowanie zgłoszeń"),
            format!("Otwarte: {open}\nPo terminie: {overdue}\n\nNajstarsze otwarte:\n{lines}\n{link}\n\n-- \nZgłoś\n"),
        ),
        Lang::En => (
            format!("{unit}: the week's reports"),
            format!("Open: {open}\nOverdue: {overdue}\n\nThe oldest open:\n{lines}\n{link}\n\n-- \nZgłoś\n"),
        ),
        Lang::Uk => (
            format!("{unit}: щотижневий підсумок звернень"),
            format!("Відкриті: {open}\nПрострочені: {overdue}\n\nНайстаріші відкриті:\n{lines}\n{link}\n\n-- \nZgłoś\n"),
        ),
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML version of a plain-text message: the category's icon and name on top, the text as
/// paragraphs (escaped: a public note is shown as written, never as markup), links clickable.
pub fn html_message(text: &str, category: &str, icon_url: Option<&str>, colour: &str) -> String {
    let linkify = |line: &str| -> String {
        line.split(' ')
            .map(|w| {
                if w.starts_with("http://") || w.starts_with("https://") {
                    let u = escape_html(w);
                    format!("<a href=\"{u}\">{u}</a>")
                } else {
                    escape_html(w)
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let paragraphs: String = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            format!(
                "<p>{}</p>\n",
                p.lines().map(linkify).collect::<Vec<_>>().join("<br>\n")
            )
        })
        .collect();
    let icon = icon_url.map_or(String::new(), |u| {
        format!(
            "<img src=\"{}\" alt=\"\" width=\"28\" height=\"28\" style=\"vertical-align:middle;background:{};border-radius:50%;padding:4px\"> ",
            escape_html(u),
            escape_html(colour)
        )
    });
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif;line-height:1.4\">\n<p style=\"font-weight:bold\">{icon}{}</p>\n{paragraphs}</body></html>\n",
        escape_html(category)
    )
}

/// What a unit whose channel is email is sent for a new report (or one moved to it).
pub struct UnitReport<'a> {
    pub id: i64,
    pub category: &'a str,
    pub address: Option<&'a str>,
    pub district: Option<&'a str>,
    pub description: &'a str,
    pub lon: f64,
    pub lat: f64,
    pub response_due: Option<chrono::NaiveDate>,
    pub fix_due: Option<chrono::NaiveDate>,
    pub photos: &'a [String],
    pub page: &'a str,
    pub act: &'a str,
}

/// The mail to a unit: the report's details, its photos as links, and the signed link that lets
/// the unit set the status (with the public reply the reporter is sent) without an account.
pub fn unit_report_message(lang: Lang, r: &UnitReport) -> (String, String) {
    let day = |d: chrono::NaiveDate| d.format("%d.%m.%Y").to_string();
    let [intro, what, place, district, coords, first, fix, photos, page, act, sign] = match lang {
        Lang::Pl => [
            "Nowe zgłoszenie dla Państwa jednostki",
            "Kategoria",
            "Miejsce",
            "Dzielnica",
            "Współrzędne",
            "Pierwsza odpowiedź do",
            "Usunięcie do",
            "Zdjęcia",
            "Zgłoszenie na mapie",
            "Zmiana statusu i odpowiedź dla zgłaszającego (bez logowania)",
            "Zgłoś, miejska e-mapa zgłoszeń",
        ],
        Lang::En => [
            "A new report for your unit",
            "Category",
            "Place",
            "District",
            "Coordinates",
            "First response by",
            "Fix by",
            "Photos",
            "The report on the map",
            "Set its status and reply to the reporter (no account needed)",
            "Zgłoś, the city's e-map of reports",
        ],
        Lang::Uk => [
            "Нове звернення для вашого підрозділу",
            "Категорія",
            "Місце",
            "Район",
            "Координати",
            "Перша відповідь до",
            "Усунути до",
            "Фото",
            "Звернення на карті",
            "Змінити статус і відповісти заявникові (без входу)",
            "Zgłoś, міська е-карта звернень",
        ],
    };
    let mut b = format!("{intro}: #{}\n\n{what}: {}\n", r.id, r.category);
    if let Some(a) = r.address {
        b.push_str(&format!("{place}: {a}\n"));
    }
    if let Some(d) = r.district {
        b.push_str(&format!("{district}: {d}\n"));
    }
    b.push_str(&format!("{coords}: {:.6}, {:.6}\n", r.lat, r.lon));
    if let Some(d) = r.response_due {
        b.push_str(&format!("{first}: {}\n", day(d)));
    }
    if let Some(d) = r.fix_due {
        b.push_str(&format!("{fix}: {}\n", day(d)));
    }
    b.push_str(&format!("\n{}\n", r.description.trim()));
    if !r.photos.is_empty() {
        b.push_str(&format!("\n{photos}:\n"));
        for p in r.photos {
            b.push_str(&format!("  {p}\n"));
        }
    }
    b.push_str(&format!(
        "\n{page}: {}\n{act}: {}\n\n-- \n{sign}\n",
        r.page, r.act
    ));
    (
        format!("#{} {}: {}", r.id, r.category, r.address.unwrap_or(""))
            .trim_end_matches([' ', ':'])
            .to_owned(),
        b,
    )
}

/// A push notification about a status change: title and text in the resident's language; on
/// "resolved" the text asks "Is it fixed?" (the notification's two actions answer).
pub fn push_message(
    lang: Lang,
    report_id: i64,
    status: &str,
    note: &str,
    ask_fixed: bool,
) -> (String, String) {
    let (title, question) = match lang {
        Lang::Pl => (
            format!("Zgłoszenie #{report_id}: {status}"),
            "Czy problem został usunięty?",
        ),
        Lang::En => (format!("Report #{report_id}: {status}"), "Is it fixed?"),
        Lang::Uk => (
            format!("Звернення №{report_id}: {status}"),
            "Чи усунено проблему?",
        ),
    };
    let mut body = note.trim().to_owned();
    if ask_fixed {
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(question);
    }
    (title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_message_speaks_the_residents_language_and_links_the_report() {
        let (subject, body) = status_message(
            Lang::En,
            42,
            "Resolved",
            "Filled today.",
            "http://x/r/42",
            None,
        );
        assert_eq!(subject, "Your report #42: Resolved");
        assert!(body.contains("Filled today.") && body.contains("http://x/r/42"));
        let (subject, body) = status_message(
            Lang::Pl,
            42,
            "Rozwiązane",
            "Załatane.",
            "http://x/r/42",
            None,
        );
        assert_eq!(subject, "Twoje zgłoszenie #42: Rozwiązane");
        assert!(body.starts_with("Dzień dobry") && body.contains("Załatane."));
        let (subject, body) =
            status_message(Lang::Uk, 42, "Вирішене", "Залатано.", "http://x/r/42", None);
        assert_eq!(subject, "Ваше звернення №42: Вирішене");
        assert!(body.starts_with("Добрий день") && body.contains("Залатано."));
        assert!(body.contains("http://x/r/42"));
        assert!(!body.contains("Очікуваний"));
    }

    #[test]
    fn the_html_version_shows_the_icon_and_the_text_as_written() {
        let html = html_message(
            "Dzień dobry,\n\nNotatka: <b>dziś</b> & jutro.\nLink: http://x/r/1?a=1&b=2\n",
            "Dziura w jezdni",
            Some("http://x/icons/pothole.svg"),
            "#d9480f",
        );
        assert!(
            html.contains("<img src=\"http://x/icons/pothole.svg\""),
            "{html}"
        );
        assert!(html.contains("Dziura w jezdni</p>"));
        assert!(
            html.contains("&lt;b&gt;dziś&lt;/b&gt; &amp; jutro."),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"http://x/r/1?a=1&amp;b=2\">"),
            "{html}"
        );
        assert!(!html_message("x", "Graffiti", None, "#000").contains("<img"));
    }

    #[test]
    fn the_confirmation_names_the_number_the_unit_and_the_date() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 15);
        let (subject, body) = confirmation_message(
            Lang::Pl,
            9,
            Some("Zarząd Dróg Miasta Krakowa"),
            date,
            None,
            "http://x/r/9",
        );
        assert_eq!(subject, "Zgłoszenie #9 przyjęte");
        assert!(
            body.contains("#9") && body.contains("Odpowiada: Zarząd Dróg Miasta Krakowa"),
            "{body}"
        );
        assert!(body.contains("Przewidywany termin: 15.12.2026") && body.contains("http://x/r/9"));
        let (_, body) = confirmation_message(Lang::Uk, 9, None, None, Some(4), "http://x/r/9");
        assert!(
            body.contains("№4") && !body.contains("Очікуваний"),
            "{body}"
        );
    }

    #[test]
    fn an_open_reports_message_says_when_the_fix_is_expected() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 15);
        let (_, body) = status_message(Lang::Pl, 7, "Przyjęte", "Jedziemy.", "http://x/r/7", date);
        assert!(
            body.contains(
                "zmienił się na: Przyjęte.\nPrzewidywany termin: 15.12.2026\n\nJedziemy."
            ),
            "{body}"
        );
        let (_, body) = status_message(
            Lang::En,
            7,
            "Acknowledged",
            "On our way.",
            "http://x/r/7",
            date,
        );
        assert!(body.contains("Expected by: 15 December 2026"), "{body}");
        let (_, body) = status_message(Lang::Uk, 7, "Прийняте", "Їдемо.", "http://x/r/7", date);
        assert!(body.contains("Очікуваний термін: 15.12.2026"), "{body}");
    }

    #[test]
    fn a_units_mail_carries_the_details_the_photos_and_the_link_to_act() {
        let photos = vec!["http://x/api/v1/photos/a".to_owned()];
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 9);
        let report = UnitReport {
            id: 42,
            category: "Dziura w jezdni",
            address: Some("Rynek Główny 1"),
            district: Some("Stare Miasto"),
            description: " Głęboka dziura ",
            lon: 19.9373,
            lat: 50.0617,
            response_due: day,
            fix_due: None,
            photos: &photos,
            page: "http://x/r/42",
            act: "http://x/api/v1/unit-links/42?unit=ZDMK&s=ab",
        };
        let (subject, body) = unit_report_message(Lang::Pl, &report);
        assert_eq!(subject, "#42 Dziura w jezdni: Rynek Główny 1");
        for part in [
            "Miejsce: Rynek Główny 1",
            "Dzielnica: Stare Miasto",
            "50.061700, 19.937300",
            "Pierwsza odpowiedź do: 09.12.2026",
            "\nGłęboka dziura\n",
            "  http://x/api/v1/photos/a",
            "(bez logowania): http://x/api/v1/unit-links/42?unit=ZDMK&s=ab",
        ] {
            assert!(body.contains(part), "{part:?} in {body}");
        }
        assert!(!body.contains("Usunięcie do"), "no fix date, no line");
        let (subject, _) = unit_report_message(
            Lang::En,
            &UnitReport {
                address: None,
                ..report
            },
        );
        assert_eq!(subject, "#42 Dziura w jezdni");
    }
}
