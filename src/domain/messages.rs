//! The texts the service sends to residents, in their language.
use super::Lang;

/// The texts of a status-change message, in the resident's language.
pub fn status_message(
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

/// What a page opened from a signed link in a message says: its title and what following the
/// link does, for the given language.
pub fn link_page(
    purpose: super::moderation::LinkPurpose,
    lang: Lang,
) -> (&'static str, &'static str) {
    use super::moderation::LinkPurpose::{Forget, Withdraw};
    match (purpose, lang) {
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

/// The page after a signed link was followed: title and text.
pub fn link_done(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::Pl => ("Gotowe", "Dziękujemy."),
        Lang::En => ("Done", "Thank you."),
        Lang::Uk => ("Готово", "Дякуємо."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_message_speaks_the_residents_language_and_links_the_report() {
        let (subject, body) =
            status_message(Lang::En, 42, "Resolved", "Filled today.", "http://x/r/42");
        assert_eq!(subject, "Your report #42: Resolved");
        assert!(body.contains("Filled today.") && body.contains("http://x/r/42"));
        let (subject, body) =
            status_message(Lang::Pl, 42, "Rozwiązane", "Załatane.", "http://x/r/42");
        assert_eq!(subject, "Twoje zgłoszenie #42: Rozwiązane");
        assert!(body.starts_with("Dzień dobry") && body.contains("Załatane."));
        let (subject, body) =
            status_message(Lang::Uk, 42, "Вирішене", "Залатано.", "http://x/r/42");
        assert_eq!(subject, "Ваше звернення №42: Вирішене");
        assert!(body.starts_with("Добрий день") && body.contains("Залатано."));
        assert!(body.contains("http://x/r/42"));
    }
}
