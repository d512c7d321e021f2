//! The inclusion report: for a period and (optionally) a unit — letters by channel, the share
//! opened before the deadline per channel, escalations, callbacks and caseworker minutes,
//! exempted citizens, and what paper, SMS and calls cost at configurable unit prices: the
//! cost of reaching the citizens who are not reached digitally. Charts are server-rendered
//! SVG with a title, a text alternative and the same numbers in a table; CSV and JSON too.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::super::error::WebError;
use super::super::page::esc;
use super::{Ctx, channel_label};
use crate::app::AppState;
use crate::store::staff_pages::{ReportCounts, ReportQuery};

/// Unit prices for the report, per message or minute. Until the installation's config holds
/// a `[report.prices]` section, these defaults apply (Danish public-sector ballpark, DKK).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnitPrices {
    pub currency: String,
    pub digital_post: f64,
    pub print: f64,
    pub sms: f64,
    pub email: f64,
    /// A caseworker's time on the phone.
    pub caseworker_minute: f64,
}

impl Default for UnitPrices {
    fn default() -> Self {
        Self { currency: "DKK".into(), digital_post: 0.8, print: 11.5, sms: 0.3, email: 0.0, caseworker_minute: 8.0 }
    }
}

#[derive(Deserialize, Default)]
pub struct ReportParams {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    unit: String,
}

/// The report as exported (JSON) and rendered.
#[derive(Debug, Serialize)]
pub struct Report {
    pub authority: String,
    pub from: String,
    pub to: String,
    pub unit: Option<String>,
    pub letters: crate::store::staff_pages::LetterTotals,
    pub citizens: crate::store::staff_pages::CitizenTotals,
    pub channels: Vec<ChannelLine>,
    pub callbacks: crate::store::staff_pages::CallbackTotals,
    pub costs: Vec<CostLine>,
    pub currency: String,
    /// Paper, SMS and caseworkers' call minutes: reaching those not reached digitally.
    pub cost_of_exclusion: f64,
}

#[derive(Debug, Serialize)]
pub struct ChannelLine {
    pub channel: String,
    /// Deliveries that carried the letter itself.
    pub letters: i64,
    pub opened_in_time: i64,
    /// `opened_in_time / letters`, 0–1.
    pub share_opened_in_time: f64,
    /// All deliveries on the channel (letters, notices, helpers).
    pub deliveries: i64,
    pub failed: i64,
}

#[derive(Debug, Serialize)]
pub struct CostLine {
    /// `digital_post`, `print`, `sms`, `email` or `call_minutes`.
    pub item: String,
    pub volume: i64,
    pub unit_price: f64,
    pub cost: f64,
}

struct Period {
    from: jiff::civil::Date,
    to: jiff::civil::Date,
}

fn period(ctx: &Ctx, state: &AppState, p: &ReportParams) -> Period {
    let today = state.clock.now().to_zoned(ctx.time_zone(state)).date();
    let first = today.first_of_month();
    let from = p.from.trim().parse().unwrap_or(first);
    let to = p.to.trim().parse().unwrap_or(today);
    if to < from { Period { from: to, to: from } } else { Period { from, to } }
}

fn start_ms(ctx: &Ctx, state: &AppState, date: jiff::civil::Date) -> i64 {
    date.to_zoned(ctx.time_zone(state)).map(|z| z.timestamp().as_millisecond()).unwrap_or_default()
}

pub async fn build(state: &AppState, ctx: &Ctx, p: &ReportParams) -> Result<Report, WebError> {
    let Period { from, to } = period(ctx, state, p);
    let unit = Some(p.unit.trim().to_owned()).filter(|u| !u.is_empty());
    let end = to.tomorrow().unwrap_or(to);
    let query =
        ReportQuery { from_ms: start_ms(ctx, state, from), to_ms: start_ms(ctx, state, end), unit: unit.clone() };
    let counts = state.store.inclusion_report(ctx.authority.id, &query).await?;
    Ok(assemble(
        ctx.authority.name.clone(),
        from.to_string(),
        to.to_string(),
        unit,
        counts,
        &state.settings.report.prices,
    ))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn assemble(
    authority: String,
    from: String,
    to: String,
    unit: Option<String>,
    counts: ReportCounts,
    prices: &UnitPrices,
) -> Report {
    let mut channels: Vec<ChannelLine> = Vec::new();
    for c in &counts.channels {
        let line = match channels.iter_mut().find(|l| l.channel == c.channel) {
            Some(line) => line,
            None => {
                channels.push(ChannelLine {
                    channel: c.channel.clone(),
                    letters: 0,
                    opened_in_time: 0,
                    share_opened_in_time: 0.0,
                    deliveries: 0,
                    failed: 0,
                });
                let last = channels.len() - 1;
                &mut channels[last]
            }
        };
        line.deliveries += c.deliveries;
        line.failed += c.failed;
        if c.purpose == "letter" {
            line.letters += c.deliveries;
            line.opened_in_time += c.opened_in_time;
        }
    }
    for line in &mut channels {
        line.share_opened_in_time =
            if line.letters > 0 { round2(line.opened_in_time as f64 / line.letters as f64) } else { 0.0 };
    }
    let volume = |channel: &str| channels.iter().find(|l| l.channel == channel).map(|l| l.deliveries).unwrap_or(0);
    let line = |item: &str, volume: i64, unit_price: f64| CostLine {
        item: item.to_owned(),
        volume,
        unit_price,
        cost: round2(volume as f64 * unit_price),
    };
    let costs = vec![
        line("digital_post", volume("digital_post"), prices.digital_post),
        line("print", volume("print"), prices.print),
        line("sms", volume("sms"), prices.sms),
        line("email", volume("email"), prices.email),
        line("call_minutes", counts.callbacks.minutes, prices.caseworker_minute),
    ];
    let cost_of_exclusion = round2(
        costs.iter().filter(|c| matches!(c.item.as_str(), "print" | "sms" | "call_minutes")).map(|c| c.cost).sum(),
    );
    Report {
        authority,
        from,
        to,
        unit,
        letters: counts.letters,
        citizens: counts.citizens,
        channels,
        callbacks: counts.callbacks,
        costs,
        currency: prices.currency.clone(),
        cost_of_exclusion,
    }
}

fn cost_label(item: &str) -> &'static str {
    match item {
        "call_minutes" => "staff-report-call-minutes",
        other => channel_label(other),
    }
}

fn money(ctx: &Ctx, amount: f64, currency: &str) -> String {
    let text = format!("{amount:.2}");
    let text = if ctx.lang == "da" { text.replace('.', ",") } else { text };
    format!("{text} {}", esc(currency))
}

/// A horizontal bar chart: an image with a title and a text alternative listing every value.
fn bar_chart(id: &str, title: &str, bars: &[(String, f64, String)]) -> String {
    let max = bars.iter().map(|(_, v, _)| *v).fold(0.0_f64, f64::max).max(1e-9);
    let row = 28;
    let height = (bars.len().max(1) * row + 10) as i64;
    let alternative: Vec<String> = bars.iter().map(|(label, _, shown)| format!("{label}: {shown}")).collect();
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" viewBox=\"0 0 640 {height}\" \
         width=\"100%\" preserveAspectRatio=\"xMinYMin meet\"><title id=\"{id}-title\">{}</title>\
         <desc id=\"{id}-desc\">{}</desc>",
        esc(title),
        esc(&alternative.join("; "))
    );
    for (i, (label, value, shown)) in bars.iter().enumerate() {
        let y = i * row + 5;
        let width = (value / max * 360.0).round().max(if *value > 0.0 { 2.0 } else { 0.0 });
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\">{}</text><rect class=\"bar\" x=\"170\" y=\"{y}\" width=\"{width}\" height=\"20\"></rect>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            y + 15,
            esc(label),
            170.0 + width + 6.0,
            y + 15,
            esc(shown)
        ));
    }
    svg.push_str("</svg>");
    svg
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ReportParams>,
) -> Result<Response, WebError> {
    let report = build(&state, &ctx, &p).await?;
    let units = state.store.staff_units(ctx.authority.id).await?;
    let query = format!(
        "from={}&amp;to={}&amp;unit={}",
        report.from,
        report.to,
        esc(&urlencode(report.unit.as_deref().unwrap_or("")))
    );
    let mut body = format!(
        "<form method=\"get\" action=\"/staff/report\"><fieldset><legend>{}</legend>\
         <label for=\"from\">{}</label><input id=\"from\" name=\"from\" type=\"date\" value=\"{}\">\
         <label for=\"to\">{}</label><input id=\"to\" name=\"to\" type=\"date\" value=\"{}\">\
         <label for=\"unit\">{}</label><select id=\"unit\" name=\"unit\"><option value=\"\">{}</option>",
        ctx.m("staff-report-period"),
        ctx.m("staff-report-from"),
        report.from,
        ctx.m("staff-report-to"),
        report.to,
        ctx.m("staff-filter-unit"),
        ctx.m("staff-filter-all-units"),
    );
    for u in &units {
        let selected = if report.unit.as_deref() == Some(u.as_str()) { " selected" } else { "" };
        body.push_str(&format!("<option value=\"{0}\"{selected}>{0}</option>", esc(u)));
    }
    body.push_str(&format!(
        "</select><div class=\"actions\"><button type=\"submit\" class=\"secondary\">{}</button></div></fieldset></form>\
         <p class=\"actions\"><a href=\"/staff/report.csv?{query}\">{}</a> <a href=\"/staff/report.json?{query}\">{}</a></p>",
        ctx.m("staff-report-show"),
        ctx.m("staff-report-csv"),
        ctx.m("staff-report-json"),
    ));
    body.push_str(&format!(
        "<p class=\"box\">{}</p>",
        ctx.ma(
            "staff-report-summary",
            &[
                ("letters", report.letters.letters.to_string()),
                ("cost", money(&ctx, report.cost_of_exclusion, &report.currency)),
            ]
        )
    ));

    // letters and citizens
    let mut facts = String::new();
    let mut fact = |label: &str, value: String| facts.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", ctx.m(label)));
    fact("staff-report-letters", report.letters.letters.to_string());
    fact("staff-report-important", report.letters.important.to_string());
    fact("staff-report-with-evidence", report.letters.with_evidence.to_string());
    fact("staff-report-escalated-letters", report.letters.escalated_letters.to_string());
    fact("staff-report-escalations", report.letters.escalations.to_string());
    fact("staff-report-citizens", report.citizens.citizens.to_string());
    fact("staff-report-exempt", report.citizens.exempt.to_string());
    body.push_str(&format!("<h2>{}</h2><dl class=\"facts\">{facts}</dl>", ctx.m("staff-report-letters-title")));

    // by channel
    let label = |c: &str| crate::i18n::I18N.message(ctx.lang, channel_label(c), &[]);
    let letter_channels: Vec<&ChannelLine> = report.channels.iter().filter(|c| c.letters > 0).collect();
    body.push_str(&format!("<h2>{}</h2>", ctx.m("staff-report-by-channel")));
    let bars: Vec<(String, f64, String)> =
        letter_channels.iter().map(|c| (label(&c.channel), c.letters as f64, c.letters.to_string())).collect();
    body.push_str(&bar_chart(
        "chart-letters",
        &crate::i18n::I18N.message(ctx.lang, "staff-report-by-channel", &[]),
        &bars,
    ));
    let bars: Vec<(String, f64, String)> = letter_channels
        .iter()
        .map(|c| (label(&c.channel), c.share_opened_in_time, format!("{:.0} %", c.share_opened_in_time * 100.0)))
        .collect();
    body.push_str(&format!("<h3>{}</h3>", ctx.m("staff-report-opened-share")));
    body.push_str(&bar_chart(
        "chart-opened",
        &crate::i18n::I18N.message(ctx.lang, "staff-report-opened-share", &[]),
        &bars,
    ));
    body.push_str(&format!(
        "<div class=\"table-wrap\"><table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        ctx.m("staff-report-by-channel"),
        ctx.m("staff-col-channel"),
        ctx.m("staff-report-col-letters"),
        ctx.m("staff-report-col-opened"),
        ctx.m("staff-report-col-share"),
        ctx.m("staff-report-col-deliveries"),
        ctx.m("staff-report-col-failed"),
    ));
    for c in &report.channels {
        body.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{:.0} %</td><td>{}</td><td>{}</td></tr>",
            esc(&label(&c.channel)),
            c.letters,
            c.opened_in_time,
            c.share_opened_in_time * 100.0,
            c.deliveries,
            c.failed
        ));
    }
    body.push_str("</tbody></table></div>");

    // callbacks
    let cb = &report.callbacks;
    let mut facts = String::new();
    let mut fact = |label: &str, value: String| facts.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", ctx.m(label)));
    fact("staff-report-callbacks", cb.tasks.to_string());
    fact("staff-report-reached", cb.reached.to_string());
    fact("staff-report-not-reached", cb.failed.to_string());
    fact("staff-report-open", cb.open.to_string());
    fact("staff-report-calls", cb.calls.to_string());
    fact("staff-report-minutes", cb.minutes.to_string());
    body.push_str(&format!("<h2>{}</h2><dl class=\"facts\">{facts}</dl>", ctx.m("staff-report-callbacks-title")));

    // costs
    body.push_str(&format!("<h2>{}</h2>", ctx.m("staff-report-costs")));
    let bars: Vec<(String, f64, String)> = report
        .costs
        .iter()
        .map(|c| {
            (
                crate::i18n::I18N.message(ctx.lang, cost_label(&c.item), &[]),
                c.cost,
                money(&ctx, c.cost, &report.currency),
            )
        })
        .collect();
    body.push_str(&bar_chart("chart-costs", &crate::i18n::I18N.message(ctx.lang, "staff-report-costs", &[]), &bars));
    body.push_str(&format!(
        "<div class=\"table-wrap\"><table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        ctx.m("staff-report-costs"),
        ctx.m("staff-report-col-item"),
        ctx.m("staff-report-col-volume"),
        ctx.m("staff-report-col-price"),
        ctx.m("staff-report-col-cost"),
    ));
    for c in &report.costs {
        body.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            ctx.m(cost_label(&c.item)),
            c.volume,
            money(&ctx, c.unit_price, &report.currency),
            money(&ctx, c.cost, &report.currency)
        ));
    }
    body.push_str(&format!(
        "</tbody><tfoot><tr><th scope=\"row\">{}</th><td></td><td></td><td>{}</td></tr></tfoot></table></div>",
        ctx.m("staff-report-cost-of-exclusion"),
        money(&ctx, report.cost_of_exclusion, &report.currency)
    ));
    let title = crate::i18n::I18N.message(ctx.lang, "staff-report-title", &[]);
    Ok(ctx.page(title, "/staff/report", body).into_response())
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    // quote always; a leading formula character is neutralised for spreadsheets
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn download(body: String, content_type: &'static str, filename: String) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

pub async fn csv(State(state): State<AppState>, ctx: Ctx, Query(p): Query<ReportParams>) -> Result<Response, WebError> {
    let r = build(&state, &ctx, &p).await?;
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut row = |section: &str, key: &str, metric: &str, value: String| {
        rows.push([section.into(), key.into(), metric.into(), value]);
    };
    row("period", "", "from", r.from.clone());
    row("period", "", "to", r.to.clone());
    row("period", "", "unit", r.unit.clone().unwrap_or_default());
    let l = &r.letters;
    for (metric, v) in [
        ("letters", l.letters),
        ("important", l.important),
        ("with_evidence", l.with_evidence),
        ("escalated_letters", l.escalated_letters),
        ("escalations", l.escalations),
    ] {
        row("letters", "", metric, v.to_string());
    }
    row("citizens", "", "citizens", r.citizens.citizens.to_string());
    row("citizens", "", "exempt", r.citizens.exempt.to_string());
    for c in &r.channels {
        row("channels", &c.channel, "letters", c.letters.to_string());
        row("channels", &c.channel, "opened_in_time", c.opened_in_time.to_string());
        row("channels", &c.channel, "share_opened_in_time", format!("{:.2}", c.share_opened_in_time));
        row("channels", &c.channel, "deliveries", c.deliveries.to_string());
        row("channels", &c.channel, "failed", c.failed.to_string());
    }
    let cb = &r.callbacks;
    for (metric, v) in [
        ("tasks", cb.tasks),
        ("reached", cb.reached),
        ("failed", cb.failed),
        ("open", cb.open),
        ("calls", cb.calls),
        ("minutes", cb.minutes),
    ] {
        row("callbacks", "", metric, v.to_string());
    }
    for c in &r.costs {
        row("costs", &c.item, "volume", c.volume.to_string());
        row("costs", &c.item, "unit_price", format!("{:.2}", c.unit_price));
        row("costs", &c.item, "cost", format!("{:.2}", c.cost));
    }
    row("costs", "", "currency", r.currency.clone());
    row("costs", "", "cost_of_exclusion", format!("{:.2}", r.cost_of_exclusion));
    let mut out = String::from("section,key,metric,value\r\n");
    for [a, b, c, d] in rows {
        out.push_str(&format!("{},{},{},{}\r\n", csv_field(&a), csv_field(&b), csv_field(&c), csv_field(&d)));
    }
    Ok(download(out, "text/csv; charset=utf-8", format!("inclusion-report-{}-{}.csv", r.from, r.to)))
}

pub async fn json(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ReportParams>,
) -> Result<Response, WebError> {
    let r = build(&state, &ctx, &p).await?;
    let body = serde_json::to_string_pretty(&r).map_err(|e| WebError::Internal(e.into()))?;
    Ok(download(body, "application/json", format!("inclusion-report-{}-{}.json", r.from, r.to)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::staff_pages::{CallbackTotals, ChannelCount};

    #[test]
    fn channels_fold_purposes_and_costs_count_paper_sms_and_minutes() {
        let counts = ReportCounts {
            channels: vec![
                ChannelCount {
                    channel: "digital_post".into(),
                    purpose: "letter".into(),
                    deliveries: 10,
                    failed: 0,
                    opened_in_time: 8,
                },
                ChannelCount {
                    channel: "print".into(),
                    purpose: "letter".into(),
                    deliveries: 2,
                    failed: 0,
                    opened_in_time: 1,
                },
                ChannelCount {
                    channel: "print".into(),
                    purpose: "helper".into(),
                    deliveries: 1,
                    failed: 0,
                    opened_in_time: 0,
                },
                ChannelCount {
                    channel: "sms".into(),
                    purpose: "notice".into(),
                    deliveries: 4,
                    failed: 1,
                    opened_in_time: 0,
                },
            ],
            callbacks: CallbackTotals { minutes: 6, ..Default::default() },
            ..Default::default()
        };
        let r = assemble("A".into(), "2026-01-01".into(), "2026-01-31".into(), None, counts, &UnitPrices::default());
        let print = r.channels.iter().find(|c| c.channel == "print").unwrap();
        assert_eq!((print.letters, print.deliveries, print.opened_in_time), (2, 3, 1));
        assert_eq!(print.share_opened_in_time, 0.5);
        assert_eq!(r.channels.iter().find(|c| c.channel == "digital_post").unwrap().share_opened_in_time, 0.8);
        // 3 × 11.50 + 4 × 0.30 + 6 × 8.00
        assert_eq!(r.cost_of_exclusion, 34.5 + 1.2 + 48.0);
        assert_eq!(csv_field("=1+1"), "\"'=1+1\"");
    }
}
