//! What the print channel's renderer costs: lays out and writes a one-page paper letter (tagged
//! PDF/UA-1, fonts subset and compressed, a window-envelope address, a personal access code),
//! the letter an escalation to paper sends, many times on one thread.
//!
//! `cargo bench --bench print_render`; `BENCH_LETTERS` (default 2,000) letters, `BENCH_LANGUAGE`
//! (`da`, or `ar` for a right-to-left letter), `BENCH_WRITE` (a path: the first letter is written
//! there, to look at). Prints milliseconds per letter and its size.

use std::time::Instant;

use budbringer::channels::print::access_code::AccessCodes;
use budbringer::channels::print::render_letter;
use budbringer::channels::test_support;
use budbringer::domain::ChannelKind;
use budbringer::store::DeliveryWork;

const DANISH: &str = "Kære borger. Du har søgt om boligstøtte. Vi har nu behandlet din ansøgning og \
    truffet afgørelse. Du får boligstøtte fra den 1. januar. Beløbet udbetales månedligt til din \
    NemKonto. Hvis dine forhold ændrer sig, skal du give os besked, fordi det kan have betydning \
    for din boligstøtte. Du kan klage over afgørelsen inden fire uger. Læs mere om dine \
    muligheder i vejledningen, der er vedlagt. Har du spørgsmål, er du velkommen til at ringe.";
const ARABIC: &str = "عزيزي المواطن. لقد تقدمت بطلب للحصول على دعم السكن. لقد قمنا الآن بمعالجة طلبك \
    واتخذنا قرارًا. ستحصل على دعم السكن اعتبارًا من 1 يناير. يتم دفع المبلغ شهريًا إلى حسابك. \
    إذا تغيرت ظروفك، يجب عليك إخبارنا، لأن ذلك قد يؤثر على دعم السكن الخاص بك.";

fn letter(language: &str, at_ms: i64) -> DeliveryWork {
    let mut work = test_support::work(ChannelKind::Print, None, None, true);
    let letter = &mut work.letter;
    letter.subject = "Afgørelse om boligstøtte".into();
    letter.body = if language == "ar" { ARABIC } else { DANISH }.into();
    letter.respond_by = Some("2026-12-31".into());
    letter.deadline = Some("2026-12-31".into());
    letter.reference = Some("SAG-4711".into());
    letter.created_at = at_ms;
    work.citizen.language = Some(language.into());
    work
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let letters: usize = std::env::var("BENCH_LETTERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let language = std::env::var("BENCH_LANGUAGE").unwrap_or_else(|_| "da".into());
    let access = AccessCodes { public_url: "https://budbringer.example.dk".into(), key: vec![7; 32] };
    let at_ms = 1_795_000_000_000;
    // the first letter parses the fonts; it is not what each letter costs
    let first = render_letter(&letter(&language, at_ms), Some(&access))?;
    if let Ok(path) = std::env::var("BENCH_WRITE") {
        std::fs::write(path, &first)?;
    }
    let works: Vec<DeliveryWork> = (0..letters).map(|i| letter(&language, at_ms + i as i64)).collect();
    let started = Instant::now();
    let mut bytes = 0;
    for work in &works {
        bytes += render_letter(work, Some(&access))?.len();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("print renderer, {letters} one-page letters ({language}), one thread");
    println!("  per letter               {:.3} ms", elapsed * 1000.0 / letters.max(1) as f64);
    println!("  letters per second       {:.0}", letters as f64 / elapsed.max(f64::EPSILON));
    println!("  size                     {} bytes (first {})", bytes / letters.max(1), first.len());
    Ok(())
}
