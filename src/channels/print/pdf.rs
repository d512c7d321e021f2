//! The letter as an accessible PDF, drawn with krilla.
//!
//! A4, DejaVu Sans embedded, tagged (headings, paragraphs, lists, bold as `Strong`), page
//! numbers as artifacts, document language, title and outline, and checked by krilla's own
//! PDF/UA-1 validator. The address sits where a C5/DL window envelope shows it (left window,
//! 20 mm from the left, 50 mm from the top). The full CPR number is never printed.
//!
//! Layout happens first (so every page knows the page count), drawing second. Output is
//! deterministic: the same letter gives the same bytes (the date is the letter's own).
//!
//! The authority's PDFs are appended after the letter. krilla refuses foreign pages in a
//! PDF/UA-validated export (it cannot vouch for them), so the letter itself is always rendered
//! and validated as PDF/UA-1 first; with attachments, the same tagged letter is then written
//! once more without the PDF/UA claim, followed by the attachments' pages.

use std::num::NonZeroU16;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock};

use krilla::configure::{Accessibility, ConfigurationBuilder, PdfVersion};
use krilla::destination::XyzDestination;
use krilla::error::KrillaError;
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::pdf::{Pdf, PdfDocument};
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, ListNumbering, Node, SpanTag, Tag, TagGroup, TagKind, TagTree,
};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};

use super::access_code::AccessCodes;
use super::bidi;
use super::markdown::{self, Run};
use crate::domain::letter::PostalAddress;
use crate::i18n::{DEFAULT_LANGUAGE, I18N};
use crate::store::DeliveryWork;

static REGULAR: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("fonts/DejaVuSans-Bold.ttf");

/// Shaping faces, parsed once: line breaking measures text exactly as krilla will draw it.
static FACES: LazyLock<Option<(rustybuzz::Face<'static>, rustybuzz::Face<'static>)>> =
    LazyLock::new(|| Some((rustybuzz::Face::from_slice(REGULAR, 0)?, rustybuzz::Face::from_slice(BOLD, 0)?)));

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the embedded font cannot be read")]
    Font,
    #[error("cannot write the letter as PDF/UA-1: {0}")]
    Pdf(String),
    /// By position, not file name: names are the authority's text and may hold anything.
    #[error("document {0} is not a readable PDF")]
    Attachment(usize),
    #[error("the PDF library failed: {0}")]
    Panic(String),
}

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const LEFT: f32 = 20.0 * MM;
const BODY_W: f32 = 165.0 * MM;
/// The envelope window: 20 mm from the left, 50 mm from the top, about 90 × 45 mm.
const WINDOW_TOP: f32 = 50.0 * MM;
const WINDOW_W: f32 = 85.0 * MM;
const SENDER_X: f32 = 120.0 * MM;
const SENDER_W: f32 = 75.0 * MM;
const SENDER_TOP: f32 = 20.0 * MM;
/// The body starts below the window on page 1, and at the top margin after that.
const FIRST_BODY_TOP: f32 = 105.0 * MM;
const NEXT_BODY_TOP: f32 = 20.0 * MM;
const BODY_BOTTOM: f32 = 270.0 * MM;
const FOOTER_BASELINE: f32 = 285.0 * MM;
const LIST_INDENT: f32 = 6.0 * MM;
const LINE_HEIGHT: f32 = 1.35;

/// Type sizes in points; large print keeps every reading size at 16 pt or more (the address
/// is for the postman and must fit the window).
#[derive(Debug, Clone, Copy)]
struct Sizes {
    body: f32,
    heading: f32,
    sender: f32,
    address: f32,
    footer: f32,
}

const NORMAL: Sizes = Sizes { body: 11.0, heading: 14.0, sender: 9.5, address: 11.0, footer: 9.0 };
const LARGE: Sizes = Sizes { body: 16.0, heading: 20.0, sender: 16.0, address: 14.0, footer: 16.0 };

/// Render the letter for `work`: the PDF a printer gets.
pub fn render_letter(work: &DeliveryWork, access: Option<&AccessCodes>) -> Result<Vec<u8>, RenderError> {
    let layout = layout(work, access)?;
    // krilla panics on misuse of its tagging API; never let that take a worker down
    catch_unwind(AssertUnwindSafe(|| {
        let letter = write(&layout, &[], true, PdfVersion::Pdf17)?;
        let attachments = attachments(work, &layout.language)?;
        if attachments.is_empty() {
            return Ok(letter);
        }
        // an attachment written as PDF 2.0 can only go into a PDF 2.0 file
        write(&layout, &attachments, false, PdfVersion::Pdf17)
            .or_else(|first| write(&layout, &attachments, false, PdfVersion::Pdf20).map_err(|_| first))
    }))
    .map_err(|panic| {
        let text = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        RenderError::Panic(text)
    })?
}

/// One of the authority's PDFs, to follow the letter.
struct Attachment {
    /// Its title in the outline ("Bilag 1: afgoerelse.pdf").
    title: String,
    pdf: PdfDocument,
    pages: usize,
}

/// The authority's PDFs that have pages. One that cannot be read fails the letter: a letter
/// posted without its attachment would be incomplete.
fn attachments(work: &DeliveryWork, language: &str) -> Result<Vec<Attachment>, RenderError> {
    let mut out = Vec::new();
    for (i, doc) in work.documents.iter().enumerate() {
        let pdf = Pdf::new(doc.content.clone()).map_err(|_| RenderError::Attachment(i + 1))?;
        let pages = pdf.pages().len();
        if pages > 0 {
            let args = [("number", (i + 1).to_string()), ("filename", doc.filename.clone())];
            let title = t(language, "print-outline-attachment", &args);
            out.push(Attachment { title, pdf: PdfDocument::new(Arc::new(pdf)), pages });
        }
    }
    Ok(out)
}

/// One piece of text of one weight, in reading order; `slot` is where its tag identifier
/// goes. It is drawn as one or more fragments (more when right-to-left text is mixed in).
#[derive(Debug, Clone)]
struct Piece {
    fragments: Vec<Fragment>,
    bold: bool,
    slot: usize,
}

/// A stretch of a piece in one direction, at its place on the line.
#[derive(Debug, Clone)]
struct Fragment {
    x: f32,
    text: String,
    rtl: bool,
}

#[derive(Debug, Clone)]
struct Line {
    page: usize,
    baseline: f32,
    size: f32,
    pieces: Vec<Piece>,
}

/// A structural unit of the letter: what the tag tree is built from.
#[derive(Debug, Clone)]
enum Block {
    Paragraph(Vec<Line>),
    Heading {
        title: String,
        lines: Vec<Line>,
    },
    /// Each item: the bullet's slot and the item's lines.
    List(Vec<(usize, Vec<Line>)>),
}

#[derive(Debug)]
struct Layout {
    language: String,
    title: String,
    blocks: Vec<Block>,
    /// Pages of the letter itself (attachments come after them).
    pages: usize,
    footers: Vec<String>,
    footer_size: f32,
    slots: usize,
    heading_anchor: (usize, f32),
    contact_anchor: (usize, f32),
}

/// Places lines top to bottom, breaking pages.
struct Cursor {
    page: usize,
    y: f32,
    slots: usize,
}

impl Cursor {
    fn slot(&mut self) -> usize {
        self.slots += 1;
        self.slots - 1
    }

    /// Wrap `runs` into lines `width` wide at `x` and place them; returns the lines. A
    /// paragraph that reads right to left (Arabic) is set flush right, each line in visual order.
    fn place(&mut self, runs: &[Run], x: f32, width: f32, size: f32, flow: bool) -> Vec<Line> {
        let advance = size * LINE_HEIGHT;
        let rtl = bidi::is_rtl_paragraph(&runs.iter().map(|r| r.text.as_str()).collect::<String>());
        let mut out = Vec::new();
        let wrapped = wrap(runs, width, size);
        let count = wrapped.len();
        for (i, segments) in wrapped.into_iter().enumerate() {
            if flow && self.y + advance > BODY_BOTTOM {
                self.page += 1;
                self.y = NEXT_BODY_TOP;
            }
            self.y += advance;
            let last = segments.len().saturating_sub(1);
            // a wrapped line keeps its trailing space, so extracted text reads as words
            let texts: Vec<String> = segments
                .iter()
                .enumerate()
                .map(|(j, run)| if j == last && i + 1 < count { format!("{} ", run.text) } else { run.text.clone() })
                .collect();
            let mut pieces: Vec<Piece> =
                segments.iter().map(|run| Piece { fragments: Vec::new(), bold: run.bold, slot: self.slot() }).collect();
            let stretches = bidi::visual_order(&texts.iter().map(String::as_str).collect::<Vec<_>>(), rtl);
            let widths: Vec<f32> = stretches.iter().map(|s| measure(&s.text, pieces[s.piece].bold, size)).collect();
            let mut px = if rtl { x + width - widths.iter().sum::<f32>() } else { x };
            for (stretch, w) in stretches.into_iter().zip(widths) {
                pieces[stretch.piece].fragments.push(Fragment { x: px, text: stretch.text, rtl: stretch.rtl });
                px += w;
            }
            out.push(Line { page: self.page, baseline: self.y, size, pieces });
        }
        out
    }

    fn gap(&mut self, size: f32) {
        self.y += size * 0.6;
    }
}

fn language(work: &DeliveryWork) -> String {
    let wanted = work.citizen.language.as_deref().unwrap_or(DEFAULT_LANGUAGE);
    let primary = wanted.split(['-', '_']).next().unwrap_or(wanted).to_ascii_lowercase();
    I18N.languages().find(|l| *l == primary).unwrap_or(DEFAULT_LANGUAGE).to_owned()
}

/// A message of the letter's frame. In a right-to-left language each inserted value is
/// isolated, so numbers, addresses and names keep their own direction.
fn t(lang: &str, id: &str, args: &[(&str, String)]) -> String {
    if !crate::i18n::is_rtl(lang) {
        return clean(&I18N.message(lang, id, args));
    }
    let isolated: Vec<(&str, String)> = args.iter().map(|(name, value)| (*name, bidi::isolate(value))).collect();
    clean(&I18N.message(lang, id, &isolated))
}

fn date_words(lang: &str, date: jiff::civil::Date, long: bool) -> String {
    let args = [
        ("day", date.day().to_string()),
        ("month", I18N.message(lang, &format!("print-month-{}", date.month()), &[])),
        ("year", date.year().to_string()),
        ("weekday", I18N.message(lang, &format!("print-weekday-{}", date.weekday().to_monday_one_offset()), &[])),
    ];
    // not isolated part by part: the date as a whole is isolated where it is inserted, and
    // an isolate's direction comes from its first strong character outside nested isolates
    clean(&I18N.message(lang, if long { "print-date-long" } else { "print-date" }, &args))
}

/// The letter's own date, in Danish time (falls back to UTC where no time zone data exists).
fn letter_date(created_at_ms: i64) -> jiff::civil::Date {
    let ts = jiff::Timestamp::from_millisecond(created_at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let tz = jiff::tz::TimeZone::get("Europe/Copenhagen").unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(tz).date()
}

/// Address lines in Danish order: name, c/o, street and number (floor, door), postcode and town.
fn address_lines(name: Option<&str>, a: &PostalAddress) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
        lines.push(name.trim().to_owned());
    }
    if let Some(co) = a.co.as_deref().filter(|c| !c.trim().is_empty()) {
        let co = co.trim();
        lines.push(if co.to_lowercase().starts_with("c/o") { co.to_owned() } else { format!("c/o {co}") });
    }
    let mut street = format!("{} {}", a.street.trim(), a.house_number.trim());
    let floor_door: Vec<&str> = [a.floor.as_deref(), a.door.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if !floor_door.is_empty() {
        let floor_door: Vec<String> = floor_door
            .iter()
            .map(|s| if s.chars().all(|c| c.is_ascii_digit()) { format!("{s}.") } else { (*s).to_owned() })
            .collect();
        street = format!("{street}, {}", floor_door.join(" "));
    }
    lines.push(street);
    lines.push(format!("{} {}", a.postcode.trim(), a.town.trim()));
    if let Some(country) = a.country.as_deref().filter(|c| !c.eq_ignore_ascii_case("DK") && !c.trim().is_empty()) {
        lines.push(country.trim().to_uppercase());
    }
    lines.into_iter().map(|l| clean(&l)).collect()
}

fn plain(text: String) -> Vec<Run> {
    vec![Run { text: clean(&text), bold: false }]
}

fn layout(work: &DeliveryWork, access: Option<&AccessCodes>) -> Result<Layout, RenderError> {
    if FACES.is_none() {
        return Err(RenderError::Font);
    }
    let letter = &work.letter;
    let lang = language(work);
    let sizes = if work.citizen.large_print { LARGE } else { NORMAL };
    let mut blocks = Vec::new();
    let mut cur = Cursor { page: 0, y: SENDER_TOP, slots: 0 };

    // Sender block, right column: who writes and how to reach them.
    let contact = &letter.contact;
    let mut sender: Vec<Vec<Run>> = vec![vec![Run { text: clean(&work.authority.name), bold: true }]];
    if let Some(unit) = contact.unit.as_deref() {
        sender.push(plain(unit.to_owned()));
    }
    if let Some(phone) = contact.phone.as_deref() {
        sender.push(plain(t(&lang, "print-phone", &[("phone", phone.to_owned())])));
    }
    if let Some(hours) = contact.hours.as_deref() {
        sender.push(plain(t(&lang, "print-hours", &[("hours", hours.to_owned())])));
    }
    if let Some(email) = contact.email.as_deref() {
        sender.push(plain(t(&lang, "print-email", &[("email", email.to_owned())])));
    }
    for runs in &sender {
        let lines = cur.place(runs, SENDER_X, SENDER_W, sizes.sender, false);
        blocks.push(Block::Paragraph(lines));
    }
    cur.gap(sizes.sender);
    let date = date_words(&lang, letter_date(letter.created_at), false);
    let mut meta = vec![plain(t(&lang, "print-letter-date", &[("date", date)]))];
    if let Some(reference) = letter.reference.as_deref() {
        meta.push(plain(t(&lang, "print-reference", &[("reference", reference.to_owned())])));
    }
    // the masked form only: a letter can be lost in the post
    if !letter.recipient.cpr_masked.is_empty() {
        meta.push(plain(t(&lang, "print-cpr", &[("cpr", mask_cpr(&letter.recipient.cpr_masked))])));
    }
    for runs in &meta {
        let lines = cur.place(runs, SENDER_X, SENDER_W, sizes.sender, false);
        blocks.push(Block::Paragraph(lines));
    }
    let sender_bottom = cur.y;

    // Address in the envelope window.
    cur.y = WINDOW_TOP;
    if let Some(address) = &letter.recipient.address {
        let mut lines = Vec::new();
        for line in address_lines(letter.recipient.name.as_deref(), address) {
            lines.extend(cur.place(&[Run { text: line, bold: false }], LEFT, WINDOW_W, sizes.address, false));
        }
        blocks.push(Block::Paragraph(lines));
    }

    // Subject, body, deadline and contact in the reading column.
    cur.y = FIRST_BODY_TOP.max(cur.y + 10.0 * MM).max(sender_bottom + 10.0 * MM);
    // keep the subject together with the first lines of the body
    if cur.y + sizes.heading * LINE_HEIGHT + 2.0 * sizes.body * LINE_HEIGHT > BODY_BOTTOM {
        cur.page += 1;
        cur.y = NEXT_BODY_TOP;
    }
    let title = clean(letter.subject.trim());
    let heading_anchor = (cur.page, cur.y);
    let lines = cur.place(&[Run { text: title.clone(), bold: true }], LEFT, BODY_W, sizes.heading, true);
    blocks.push(Block::Heading { title: title.clone(), lines });
    cur.gap(sizes.body);

    for block in markdown::parse(&letter.body) {
        match block {
            markdown::Block::Paragraph(runs) => {
                let runs = clean_runs(runs);
                blocks.push(Block::Paragraph(cur.place(&runs, LEFT, BODY_W, sizes.body, true)));
            }
            markdown::Block::List(items) => {
                let mut placed = Vec::new();
                for item in items {
                    let runs = clean_runs(item);
                    let label = cur.slot();
                    let lines = cur.place(&runs, LEFT + LIST_INDENT, BODY_W - LIST_INDENT, sizes.body, true);
                    placed.push((label, lines));
                }
                blocks.push(Block::List(placed));
            }
        }
        cur.gap(sizes.body);
    }

    if let Some(deadline) = letter.deadline.as_deref().or(letter.respond_by.as_deref())
        && let Ok(date) = deadline.parse::<jiff::civil::Date>()
    {
        let id = if letter.deadline_extended() { "print-deadline-extended" } else { "print-deadline" };
        let text = t(&lang, id, &[("date", date_words(&lang, date, true))]);
        blocks.push(Block::Paragraph(cur.place(&[Run { text, bold: true }], LEFT, BODY_W, sizes.body, true)));
        cur.gap(sizes.body);
    }

    let unit = clean(contact.unit.as_deref().unwrap_or(&work.authority.name));
    let mut contact_text = match (contact.phone.as_deref(), contact.hours.as_deref(), contact.email.as_deref()) {
        (Some(phone), Some(hours), _) => t(
            &lang,
            "print-contact-phone-hours",
            &[("unit", unit.clone()), ("phone", phone.to_owned()), ("hours", hours.to_owned())],
        ),
        (Some(phone), None, _) => {
            t(&lang, "print-contact-phone", &[("unit", unit.clone()), ("phone", phone.to_owned())])
        }
        (None, _, Some(email)) => {
            t(&lang, "print-contact-email-only", &[("unit", unit.clone()), ("email", email.to_owned())])
        }
        (None, _, None) => t(&lang, "print-contact-none", &[("unit", unit.clone())]),
    };
    if let (Some(_), Some(email)) = (contact.phone.as_deref(), contact.email.as_deref()) {
        contact_text = format!("{contact_text} {}", t(&lang, "print-contact-email", &[("email", email.to_owned())]));
    }
    let contact_anchor = (cur.page, cur.y);
    blocks.push(Block::Paragraph(cur.place(&plain(contact_text), LEFT, BODY_W, sizes.body, true)));

    // the citizen's own way in to the citizens' pages without MitID (never in a helper's copy)
    if let Some(AccessCodes { public_url, key }) = access
        && work.delivery.helper.is_none()
        && work.delivery.purpose == "letter"
        && !work.citizen.cpr.is_empty()
    {
        cur.gap(sizes.body);
        let code = super::access_code::code(key, &work.citizen.cpr, letter.created_at);
        let url = format!("{}/citizen", public_url.trim_end_matches('/'));
        let text = t(&lang, "print-access-code", &[("url", url), ("code", code)]);
        blocks.push(Block::Paragraph(cur.place(&plain(text), LEFT, BODY_W, sizes.body, true)));
    }

    let pages = cur.page + 1;
    let footers =
        (1..=pages).map(|p| t(&lang, "print-page", &[("page", p.to_string()), ("pages", pages.to_string())])).collect();
    Ok(Layout {
        title,
        blocks,
        pages,
        footers,
        footer_size: sizes.footer,
        slots: cur.slots,
        heading_anchor,
        contact_anchor,
        language: lang,
    })
}

/// `DDMMYY-****` at most, whatever the stored form.
fn mask_cpr(stored: &str) -> String {
    let digits: String = stored.chars().filter(char::is_ascii_digit).take(6).collect();
    format!("{digits}-****")
}

fn clean_runs(runs: Vec<Run>) -> Vec<Run> {
    runs.into_iter().map(|r| Run { text: clean(&r.text), bold: r.bold }).collect()
}

/// Text the embedded fonts can draw: control characters become spaces and characters
/// neither font has become `?` (PDF/UA forbids the `.notdef` glyph).
fn clean(text: &str) -> String {
    let Some((regular, bold)) = FACES.as_ref() else { return String::new() };
    text.chars()
        .map(|c| {
            if c.is_control() {
                ' '
            } else if bidi::is_isolate_mark(c) || regular.glyph_index(c).is_some() && bold.glyph_index(c).is_some() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The shaping face of the regular or the bold font.
fn face(bold: bool) -> Option<&'static rustybuzz::Face<'static>> {
    FACES.as_ref().map(|(regular, heavy)| if bold { heavy } else { regular })
}

/// Width of `text` in points, shaped as krilla shapes it.
fn measure(text: &str, bold: bool, size: f32) -> f32 {
    let Some(face) = face(bold) else { return 0.0 };
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    if text.contains(bidi::is_isolate_mark) {
        buffer.push_str(&text.replace(bidi::is_isolate_mark, ""));
    } else {
        buffer.push_str(text);
    }
    buffer.guess_segment_properties();
    let shaped = shape(face, bold, buffer);
    let units: i32 = shaped.glyph_positions().iter().map(|p| p.x_advance).sum();
    units as f32 / face.units_per_em() as f32 * size
}

/// Shape `buffer` (its properties set) with this thread's plan for them.
fn shape(face: &rustybuzz::Face<'_>, bold: bool, buffer: rustybuzz::UnicodeBuffer) -> rustybuzz::GlyphBuffer {
    // `script()` reports "none found" (digits, spaces) as UNKNOWN; the plan wants `None` then
    let script = Some(buffer.script()).filter(|s| *s != rustybuzz::script::UNKNOWN);
    let key: PlanKey = (bold, buffer.direction(), script, buffer.language());
    with_plan(face, key, |plan| rustybuzz::shape_with_plan(face, plan, buffer))
}

/// A shaping plan per face and text properties, built once per thread: building one costs
/// more than shaping a line with it.
type PlanKey = (bool, rustybuzz::Direction, Option<rustybuzz::Script>, Option<rustybuzz::Language>);

thread_local! {
    static PLANS: std::cell::RefCell<Vec<(PlanKey, rustybuzz::ShapePlan)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn with_plan<T>(face: &rustybuzz::Face<'_>, key: PlanKey, use_plan: impl FnOnce(&rustybuzz::ShapePlan) -> T) -> T {
    PLANS.with_borrow_mut(|plans| {
        let index = match plans.iter().position(|(k, _)| *k == key) {
            Some(index) => index,
            None => {
                let plan = rustybuzz::ShapePlan::new(face, key.1, key.2, key.3.as_ref(), &[]);
                plans.push((key, plan));
                plans.len() - 1
            }
        };
        use_plan(&plans[index].1)
    })
}

/// A word: its pieces with their weight (a word can change weight in the middle).
type Word = Vec<Run>;

fn words(runs: &[Run]) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut current: Word = Vec::new();
    for run in runs {
        for (i, part) in run.text.split(char::is_whitespace).enumerate() {
            if i > 0 && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            if !part.is_empty() {
                match current.last_mut() {
                    Some(last) if last.bold == run.bold => last.text.push_str(part),
                    _ => current.push(Run { text: part.to_owned(), bold: run.bold }),
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Join words into runs of equal weight; a space is bold only between two bold pieces.
fn join(words: &[Word]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut push = |text: &str, bold: bool| match runs.last_mut() {
        Some(last) if last.bold == bold => last.text.push_str(text),
        _ => runs.push(Run { text: text.to_owned(), bold }),
    };
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            push(" ", ends_bold(&words[i - 1]) && starts_bold(word));
        }
        for run in word {
            push(&run.text, run.bold);
        }
    }
    runs
}

fn width(runs: &[Run], size: f32) -> f32 {
    runs.iter().map(|r| measure(&r.text, r.bold, size)).sum()
}

/// How far a line's shaped width can be from the sum of its words' and spaces' widths, per
/// space, as a share of the font size: only kerning against the space can differ. DejaVu Sans
/// kerns no pair with the space (checked for Latin-1 and Latin Extended-A), so this is a margin
/// for a font that does; no font kerns a fifth of an em.
const KERNING_BOUND: f32 = 0.2;

/// Greedy line breaking; a word wider than the line is cut between characters.
///
/// Whether a word still fits is decided by the shaped width of the whole line, as krilla will
/// draw it. Shaping the line for every word made a letter's layout grow with the square of
/// its line length, so the line's width is first estimated from its words measured once; the
/// line is shaped only when the estimate is within `KERNING_BOUND` of the margin.
fn wrap(runs: &[Run], max: f32, size: f32) -> Vec<Vec<Run>> {
    let spaces = [measure(" ", false, size), measure(" ", true, size)];
    let mut lines = Vec::new();
    let mut line: Vec<Word> = Vec::new();
    let mut estimate = 0.0;
    for word in words(runs) {
        let word_width = width(&word, size);
        let space = match line.last() {
            Some(before) => spaces[usize::from(ends_bold(before) && starts_bold(&word))],
            None => 0.0,
        };
        let candidate = estimate + space + word_width;
        let slack = KERNING_BOUND * size * line.len() as f32;
        line.push(word);
        let fits = if candidate + slack <= max {
            true
        } else if candidate - slack > max {
            false
        } else {
            width(&join(&line), size) <= max
        };
        if fits {
            estimate = candidate;
            continue;
        }
        let word = line.pop().unwrap_or_default();
        if !line.is_empty() {
            lines.push(join(&line));
            line.clear();
        }
        if word_width <= max {
            line.push(word);
            estimate = word_width;
        } else {
            let (mut pieces, rest) = split_word(&word, max, size);
            lines.append(&mut pieces);
            estimate = width(&rest, size);
            line.push(rest);
        }
    }
    if !line.is_empty() {
        lines.push(join(&line));
    }
    lines
}

fn starts_bold(word: &Word) -> bool {
    word.first().is_some_and(|r| r.bold)
}

fn ends_bold(word: &Word) -> bool {
    word.last().is_some_and(|r| r.bold)
}

/// Cut an over-long word into full lines and the remainder.
fn split_word(word: &Word, max: f32, size: f32) -> (Vec<Vec<Run>>, Word) {
    let mut lines = Vec::new();
    let mut current: Word = Vec::new();
    for run in word {
        for c in run.text.chars() {
            let mut next = current.clone();
            match next.last_mut() {
                Some(last) if last.bold == run.bold => last.text.push(c),
                _ => next.push(Run { text: c.to_string(), bold: run.bold }),
            }
            if width(&next, size) > max && !current.is_empty() {
                lines.push(std::mem::take(&mut current));
                current.push(Run { text: c.to_string(), bold: run.bold });
            } else {
                current = next;
            }
        }
    }
    (lines, current)
}

fn fonts() -> Result<(Font, Font), RenderError> {
    let regular = Font::new(REGULAR.into(), 0).ok_or(RenderError::Font)?;
    let bold = Font::new(BOLD.into(), 0).ok_or(RenderError::Font)?;
    Ok((regular, bold))
}

/// Draw the laid-out letter, then any attachments. `validate`: PDF/UA-1 (no attachments).
fn write(
    layout: &Layout,
    attachments: &[Attachment],
    validate: bool,
    version: PdfVersion,
) -> Result<Vec<u8>, RenderError> {
    let (regular, bold) = fonts()?;
    let builder = ConfigurationBuilder::new().with_version(version);
    let builder = if validate { builder.with_accessibility_validator(Accessibility::UA1) } else { builder };
    let configuration = builder.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))?;
    let settings = SerializeSettings { configuration, enable_tagging: true, ..SerializeSettings::default() };
    let mut document = Document::new_with(settings);

    let mut ids: Vec<Option<Identifier>> = vec![None; layout.slots];
    for page_index in 0..layout.pages {
        let mut page = document.start_page_with(
            PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| RenderError::Pdf("page size".into()))?,
        );
        let mut surface = page.surface();
        for block in &layout.blocks {
            let labels: Vec<(usize, &Line)> = match block {
                Block::List(items) => items
                    .iter()
                    .filter_map(|(label, lines)| lines.first().map(|first| (*label, first)))
                    .filter(|(_, first)| first.page == page_index)
                    .collect(),
                _ => Vec::new(),
            };
            for (label, first) in labels {
                let bullet = Fragment { x: LEFT, text: "•".into(), rtl: false };
                let id = draw(&mut surface, &regular, false, first.baseline, first.size, &[bullet]);
                ids[label] = Some(id);
            }
            for line in block_lines(block).filter(|l| l.page == page_index) {
                for piece in &line.pieces {
                    let font = if piece.bold { &bold } else { &regular };
                    let id = draw(&mut surface, font, piece.bold, line.baseline, line.size, &piece.fragments);
                    ids[piece.slot] = Some(id);
                }
            }
        }
        if let Some(footer) = layout.footers.get(page_index) {
            let stretches = bidi::visual_order(&[footer.as_str()], bidi::is_rtl_paragraph(footer));
            let widths: Vec<f32> = stretches.iter().map(|s| measure(&s.text, false, layout.footer_size)).collect();
            let mut x = (PAGE_W - widths.iter().sum::<f32>()) / 2.0;
            surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(ArtifactType::PageNumber)));
            for (stretch, w) in stretches.iter().zip(widths) {
                let point = Point::from_xy(x, FOOTER_BASELINE);
                draw_text(&mut surface, point, &regular, false, layout.footer_size, &stretch.text, stretch.rtl);
                x += w;
            }
            surface.end_tagged();
        }
        surface.finish();
        page.finish();
    }

    let mut outline = Outline::new();
    let (page, y) = layout.heading_anchor;
    outline.push_child(OutlineNode::new(layout.title.clone(), XyzDestination::new(page, Point::from_xy(LEFT, y))));
    let (page, y) = layout.contact_anchor;
    let contact = t(&layout.language, "print-outline-contact", &[]);
    outline.push_child(OutlineNode::new(contact, XyzDestination::new(page, Point::from_xy(LEFT, y))));

    let mut first_page = layout.pages;
    for attachment in attachments {
        document.embed_pdf_pages(&attachment.pdf, &(0..attachment.pages).collect::<Vec<_>>());
        let destination = XyzDestination::new(first_page, Point::from_xy(0.0, 0.0));
        outline.push_child(OutlineNode::new(attachment.title.clone(), destination));
        first_page += attachment.pages;
    }

    document.set_outline(outline);
    document.set_tag_tree(tag_tree(layout, &mut ids));
    document.set_metadata(
        Metadata::new().title(layout.title.clone()).language(layout.language.clone()).creator("Budbringer".to_owned()),
    );
    document.finish().map_err(|e| RenderError::Pdf(describe(&e)))
}

/// What went wrong, by kind only: krilla's details can quote the letter's text, and this
/// message ends up in logs and in the delivery's `last_error`.
fn describe(error: &KrillaError) -> String {
    let kind = |debug: String| debug.split(['(', ' ', '{']).next().unwrap_or_default().to_owned();
    match error {
        KrillaError::Validation(errors) => {
            errors.iter().map(|(e, _)| kind(format!("{e:?}"))).collect::<Vec<_>>().join(", ")
        }
        other => kind(format!("{other:?}")),
    }
}

fn block_lines(block: &Block) -> Box<dyn Iterator<Item = &Line> + '_> {
    match block {
        Block::Paragraph(lines) | Block::Heading { lines, .. } => Box::new(lines.iter()),
        Block::List(items) => Box::new(items.iter().flat_map(|(_, lines)| lines.iter())),
    }
}

/// One tagged span: a piece's fragments, each shaped in its own direction.
fn draw(surface: &mut Surface<'_>, font: &Font, bold: bool, y: f32, size: f32, fragments: &[Fragment]) -> Identifier {
    let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
    for f in fragments {
        draw_text(surface, Point::from_xy(f.x, y), font, bold, size, &f.text, f.rtl);
    }
    surface.end_tagged();
    id
}

/// Draw `text` in one direction, shaped as krilla's own `draw_text` would, but with this
/// thread's cached plan and parsed face: krilla parses the font and builds a plan for every call.
fn draw_text(surface: &mut Surface<'_>, at: Point, font: &Font, bold: bool, size: f32, text: &str, rtl: bool) {
    let glyphs = shape_glyphs(text, bold, rtl);
    surface.draw_glyphs(at, &glyphs, font.clone(), text, size, false);
}

/// The glyphs of `text` with their advances in ems and the byte range of the text each stands
/// for (so the PDF's text can be extracted and read aloud); as in krilla's `naive_shape`.
fn shape_glyphs(text: &str, bold: bool, rtl: bool) -> Vec<KrillaGlyph> {
    let Some(face) = face(bold) else { return Vec::new() };
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    buffer.set_direction(if rtl { rustybuzz::Direction::RightToLeft } else { rustybuzz::Direction::LeftToRight });
    let shaped = shape(face, bold, buffer);
    let em = face.units_per_em() as f32;
    let infos = shaped.glyph_infos();
    shaped
        .glyph_positions()
        .iter()
        .zip(infos)
        .enumerate()
        .map(|(i, (position, info))| {
            // a cluster's text runs to where the next cluster in reading order starts
            let next = if rtl {
                infos[..i].iter().rev().find(|other| other.cluster != info.cluster)
            } else {
                infos[i + 1..].iter().find(|other| other.cluster != info.cluster)
            };
            let end = next.map_or(text.len(), |other| other.cluster as usize);
            KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                position.x_advance as f32 / em,
                position.x_offset as f32 / em,
                position.y_offset as f32 / em,
                position.y_advance as f32 / em,
                info.cluster as usize..end,
                None,
            )
        })
        .collect()
}

/// The structure: paragraphs, the heading, lists (`L` > `LI` > `Lbl` + `LBody`), bold as `Strong`.
fn tag_tree(layout: &Layout, ids: &mut [Option<Identifier>]) -> TagTree {
    let mut take = |slot: usize| ids.get_mut(slot).and_then(Option::take);
    let content = |lines: &[Line], take: &mut dyn FnMut(usize) -> Option<Identifier>| -> Vec<Node> {
        let mut nodes = Vec::new();
        for piece in lines.iter().flat_map(|l| l.pieces.iter()) {
            if let Some(id) = take(piece.slot) {
                if piece.bold {
                    nodes.push(TagGroup::with_children(Tag::Strong, vec![id.into()]).into());
                } else {
                    nodes.push(id.into());
                }
            }
        }
        nodes
    };
    let mut tree = TagTree::new().with_lang(Some(layout.language.clone()));
    for block in &layout.blocks {
        let group = match block {
            Block::Paragraph(lines) => TagGroup::with_children(Tag::P, content(lines, &mut take)),
            Block::Heading { title, lines } => {
                let kind: TagKind = Tag::Hn(NonZeroU16::MIN, Some(title.clone())).into();
                TagGroup::with_children(kind, content(lines, &mut take))
            }
            Block::List(items) => {
                let mut list = TagGroup::new(Tag::L(ListNumbering::Disc));
                for (label, lines) in items {
                    let mut item = TagGroup::new(Tag::LI);
                    if let Some(id) = take(*label) {
                        item.push(TagGroup::with_children(Tag::Lbl, vec![id.into()]));
                    }
                    item.push(TagGroup::with_children(Tag::LBody, content(lines, &mut take)));
                    list.push(item);
                }
                list
            }
        };
        tree.push(group);
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_support::work;
    use crate::domain::ChannelKind;

    #[test]
    fn renders_a_pdf_ua_letter() {
        let mut w = work(ChannelKind::Print, None, None, true);
        w.letter.body = "Første afsnit med **fed** tekst.\n\n- punkt et\n- punkt to".into();
        w.letter.respond_by = Some("2099-12-31".into());
        let pdf = render_letter(&w, None).unwrap();
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("pdfuaid:part"), "PDF/UA identification missing");
        assert!(text.contains("/StructTreeRoot"));
        // deterministic: the same letter gives the same bytes
        assert_eq!(pdf, render_letter(&w, None).unwrap());
    }

    #[test]
    fn long_letters_get_more_pages_and_large_print_more_still() {
        let mut w = work(ChannelKind::Print, None, None, true);
        w.letter.body =
            vec!["Et afsnit med en hel del tekst, som skal brydes over flere linjer på siden."; 40].join("\n\n");
        let normal = layout(&w, None).unwrap();
        w.citizen.large_print = true;
        let large = layout(&w, None).unwrap();
        assert!(normal.pages >= 2 && large.pages > normal.pages, "{} {}", normal.pages, large.pages);
        assert_eq!(large.footers[0], format!("Side 1 af {}", large.pages));
        w.letter.contact.unit = Some("Borgerservice og Ydelser".into());
        w.letter.contact.hours = Some("Man–fre 9–12".into());
        w.letter.contact.email = Some("borgerservice@aarhus.dk".into());
        render_letter(&w, None).unwrap();
    }

    /// Every language's frame renders as PDF/UA-1 (the validator runs inside `render_letter`).
    /// An Arabic paragraph is set flush right, with the date's digits in their own order, while
    /// the authority's Danish text beside it stays flush left.
    #[test]
    fn every_language_renders_and_arabic_is_set_right_to_left() {
        let mut w = work(ChannelKind::Print, None, None, true);
        w.letter.respond_by = Some("2099-12-31".into());
        for language in I18N.languages() {
            w.citizen.language = Some(language.into());
            render_letter(&w, None).unwrap_or_else(|e| panic!("{language}: {e}"));
            // the document's language (the catalogue's /Lang) is the citizen's
            assert_eq!(layout(&w, None).unwrap().language, language);
        }
        w.citizen.language = Some("ar".into());
        let layout = layout(&w, None).unwrap();
        assert_eq!(layout.language, "ar");
        let lines: Vec<&Line> = layout.blocks.iter().flat_map(block_lines).collect();
        let text =
            |line: &Line| line.pieces.iter().flat_map(|p| &p.fragments).map(|f| f.text.clone()).collect::<String>();
        let right_edge = |line: &Line| {
            line.pieces
                .iter()
                .flat_map(|p| &p.fragments)
                .map(|f| f.x + measure(&f.text, p_bold(line, f), line.size))
                .fold(0.0_f32, f32::max)
        };
        let deadline = lines.iter().find(|l| text(l).contains("2099")).expect("the deadline line");
        assert!((right_edge(deadline) - (LEFT + BODY_W)).abs() < 0.5, "flush right: {}", right_edge(deadline));
        let fragments: Vec<&Fragment> = deadline.pieces.iter().flat_map(|p| &p.fragments).collect();
        assert!(fragments.iter().any(|f| f.text == "2099" && !f.rtl), "{fragments:?}");
        // read from the right: day, month, year — so the year stands left of the day
        let x_of = |text: &str| fragments.iter().find(|f| f.text == text).map(|f| f.x).unwrap_or(f32::NAN);
        assert!(x_of("2099") < x_of("31"), "{fragments:?}");
        assert!(fragments.iter().any(|f| f.rtl), "{fragments:?}");
        let subject = lines.iter().find(|l| text(l).contains(w.letter.subject.trim())).expect("the subject");
        let first = subject.pieces[0].fragments[0].x;
        assert!((first - LEFT).abs() < 0.01 && !subject.pieces[0].fragments[0].rtl, "the Danish subject stays left");
    }

    /// Whether the piece holding `fragment` is bold.
    fn p_bold(line: &Line, fragment: &Fragment) -> bool {
        line.pieces.iter().find(|p| p.fragments.iter().any(|f| std::ptr::eq(f, fragment))).is_some_and(|p| p.bold)
    }

    #[test]
    fn deadline_in_words_and_danish_address_order() {
        let date = jiff::civil::date(2099, 12, 31);
        assert_eq!(date_words("da", date, true), "torsdag den 31. december 2099");
        assert_eq!(date_words("en", date, true), "Thursday 31 December 2099");
        let a = PostalAddress {
            co: Some("Hansen".into()),
            street: "Vestergade".into(),
            house_number: "12A".into(),
            floor: Some("2".into()),
            door: Some("th".into()),
            postcode: "8000".into(),
            town: "Aarhus C".into(),
            country: None,
        };
        assert_eq!(
            address_lines(Some("Jens"), &a),
            vec!["Jens", "c/o Hansen", "Vestergade 12A, 2. th", "8000 Aarhus C"]
        );
    }

    #[test]
    fn glyphs_drawn_from_the_cached_plan_are_the_ones_krilla_shapes() {
        // kerning, ligatures, bold, Arabic joining, digits inside Arabic, an isolate mark
        let texts = [
            ("Afgørelse om boligstøtte: «AVATAR», To Wa, fi ffl 12.", false, false),
            ("Fed tekst, Tv", true, false),
            ("مرحبا بالعالم", false, true),
            ("القرار 2026", true, true),
            ("\u{2067}سكن\u{2069} og 1.", false, false),
        ];
        let pdf = |ours: bool| {
            let mut document = Document::new();
            let mut page = document.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).unwrap());
            let mut surface = page.surface();
            let (regular, bold) = fonts().unwrap();
            for (i, (text, heavy, rtl)) in texts.iter().enumerate() {
                let font = if *heavy { &bold } else { &regular };
                let at = Point::from_xy(LEFT, 100.0 + 20.0 * i as f32);
                if ours {
                    draw_text(&mut surface, at, font, *heavy, 11.0, text, *rtl);
                } else {
                    let direction = if *rtl {
                        krilla::text::TextDirection::RightToLeft
                    } else {
                        krilla::text::TextDirection::LeftToRight
                    };
                    surface.draw_text(at, font.clone(), 11.0, text, false, direction);
                }
            }
            surface.finish();
            page.finish();
            document.finish().unwrap()
        };
        assert_eq!(pdf(true), pdf(false));
    }

    /// The line breaking before it estimated widths: shape the whole line for every word.
    fn wrap_shaping_every_line(runs: &[Run], max: f32, size: f32) -> Vec<Vec<Run>> {
        let mut lines = Vec::new();
        let mut line: Vec<Word> = Vec::new();
        for word in words(runs) {
            line.push(word);
            if width(&join(&line), size) <= max {
                continue;
            }
            let word = line.pop().unwrap_or_default();
            if !line.is_empty() {
                lines.push(join(&line));
                line.clear();
            }
            if width(&word, size) <= max {
                line.push(word);
            } else {
                let (mut pieces, rest) = split_word(&word, max, size);
                lines.append(&mut pieces);
                line.push(rest);
            }
        }
        if !line.is_empty() {
            lines.push(join(&line));
        }
        lines
    }

    /// Words of one script each: kerning pairs (AV, To, Wa), bold, digits, an over-long word;
    /// and Arabic. (A line mixing both is drawn as separate stretches, each shaped alone, so
    /// shaping the mixed line in one piece was never its drawn width.)
    const LATIN: [&str; 11] = [
        "AVATAR",
        "To",
        "Wa.",
        "**fed**",
        "boligstøtte",
        "ændrer",
        "1.",
        "januar,",
        "«Yes»",
        "**Tv**",
        "Hovedstadsområdetsbeskæftigelsesindsats",
    ];
    const ARABIC: [&str; 5] = ["مرحبا", "بالعالم", "1.", "القرار،", "السكنمساعدةالسكنمساعدةالسكنمساعدة"];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn estimated_widths_break_lines_where_shaping_every_line_does(
            arabic in proptest::bool::ANY,
            picks in proptest::collection::vec(0usize..11, 1..60),
            max in 40.0f32..420.0,
            size in proptest::sample::select(vec![9.0f32, 11.0, 14.0]),
        ) {
            let vocabulary: &[&str] = if arabic { &ARABIC } else { &LATIN };
            let text = picks.iter().map(|i| vocabulary[i % vocabulary.len()]).collect::<Vec<_>>().join(" ");
            let runs = markdown::inline(&text);
            proptest::prop_assert_eq!(wrap(&runs, max, size), wrap_shaping_every_line(&runs, max, size));
        }
    }

    #[test]
    fn wraps_long_words_and_masks_cpr() {
        let lines = wrap(&[Run { text: "x".repeat(400), bold: false }], 100.0, 11.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| width(l, 11.0) <= 100.0));
        assert_eq!(mask_cpr("0101901234"), "010190-****");
        assert_eq!(mask_cpr("010190-****"), "010190-****");
        assert_eq!(clean("a\u{0}b\u{E000}"), "a b?");
    }

    #[test]
    fn bad_attachments_fail_and_good_ones_are_appended() {
        let mut w = work(ChannelKind::Print, None, None, true);
        w.documents.push(crate::store::Document {
            id: uuid::Uuid::nil(),
            filename: "bilag.pdf".into(),
            media_type: "application/pdf".into(),
            content: b"not a pdf".to_vec(),
        });
        assert!(matches!(render_letter(&w, None), Err(RenderError::Attachment(_))));
        let letter = render_letter(&work(ChannelKind::Print, None, None, true), None).unwrap();
        w.documents[0].content = letter.clone();
        let combined = render_letter(&w, None).unwrap();
        assert!(combined.len() > letter.len());
        let pages = Pdf::new(combined).unwrap().pages().len();
        assert_eq!(pages, 2);

        // a PDF 2.0 attachment makes the whole file PDF 2.0
        let configuration = ConfigurationBuilder::new().with_version(PdfVersion::Pdf20).finish().unwrap();
        let mut v2 = Document::new_with(SerializeSettings { configuration, ..SerializeSettings::default() });
        v2.start_page().finish();
        w.documents[0].content = v2.finish().unwrap();
        let combined = render_letter(&w, None).unwrap();
        assert!(combined.starts_with(b"%PDF-2.0"));
        assert_eq!(Pdf::new(combined).unwrap().pages().len(), 2);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            // rendering is slow in debug builds: fewer cases than the parsers get
            let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12);
            ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
        }

        fn hostile_text(max: usize) -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                3 => "\\PC{0,12}",
                1 => any::<char>().prop_map(String::from),
                2 => prop::sample::select(vec![
                    "**", "- ", "\n", "\n\n", "\t", "\u{0}", "\u{202E}", "\u{200B}", "\u{FFFD}", "\u{E000}",
                    "(", ")", "\\", "%", "<<", ">>", "/Encrypt", "endstream", "👩‍👩‍👧", "ﷺ", "a\u{301}",
                ])
                .prop_map(str::to_owned),
                1 => "[a-zA-Z]{60,200}",
            ];
            prop::collection::vec(piece, 0..max).prop_map(|pieces| pieces.concat())
        }

        proptest! {
            #![proptest_config(config())]

            /// Any body and subject the API could let through renders to a PDF: no panic, no
            /// error, and the characters PDF syntax cares about stay text.
            #[test]
            fn any_letter_text_renders(
                body in hostile_text(30),
                // what the API lets through as a subject: something visible, no control characters
                subject in hostile_text(4).prop_filter("a subject the API accepts", |s| {
                    !s.trim().is_empty() && !s.chars().any(char::is_control)
                }),
                large in any::<bool>(),
            ) {
                let mut w = work(ChannelKind::Print, None, None, true);
                w.letter.body = body;
                w.letter.subject = subject;
                w.citizen.large_print = large;
                let pdf = render_letter(&w, None).map_err(|e| TestCaseError::fail(format!("{e}")))?;
                prop_assert!(pdf.starts_with(b"%PDF-"));
                let parsed = Pdf::new(pdf).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert!(!parsed.pages().is_empty());
            }
        }
    }
}
