//! The frame every web page shares: language and direction, skip link, navigation, the
//! language switch, one `<h1>`, and the security headers (no script runs on these pages).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::lang::Area;
use crate::i18n::{I18N, is_rtl};

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A message from the catalogue, escaped for HTML.
pub fn m(lang: &str, id: &str) -> String {
    esc(&I18N.message(lang, id, &[]))
}

/// A message with arguments, escaped for HTML.
pub fn ma(lang: &str, id: &str, args: &[(&str, String)]) -> String {
    esc(&I18N.message(lang, id, args))
}

/// A link in the page's main navigation.
pub struct NavLink {
    pub href: &'static str,
    /// Fluent id of the link text.
    pub label: &'static str,
}

/// What a handler hands over to be framed.
pub struct Page {
    pub area: Area,
    pub lang: &'static str,
    /// Plain text (escaped here); the page's `<title>` and `<h1>`.
    pub title: String,
    /// HTML, already escaped by the handler.
    pub body: String,
    pub nav: Vec<NavLink>,
    /// The path of this page (marks the current link, and the language switch comes back here).
    pub path: String,
    /// The session's CSRF token when logged in (the switch and logout forms carry it).
    pub csrf: Option<String>,
    pub status: StatusCode,
}

impl Page {
    pub fn new(area: Area, lang: &'static str, title: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            area,
            lang,
            title: title.into(),
            body: String::new(),
            nav: Vec::new(),
            path: path.into(),
            csrf: None,
            status: StatusCode::OK,
        }
    }

    pub fn body(mut self, body: String) -> Self {
        self.body = body;
        self
    }

    pub fn logged_in(mut self, nav: Vec<NavLink>, csrf: &str) -> Self {
        self.nav = nav;
        self.csrf = Some(csrf.to_owned());
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn render(&self) -> String {
        let lang = self.lang;
        let dir = if is_rtl(lang) { "rtl" } else { "ltr" };
        let (site_id, home, logout) = match self.area {
            Area::Citizen => ("web-site-citizen", "/citizen", "/citizen/logout"),
            Area::Staff => ("web-site-staff", "/staff", "/staff/logout"),
        };
        let site = m(lang, site_id);
        let title = esc(&self.title);
        let csrf_field =
            self.csrf.as_deref().map(|t| format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(t)));
        let csrf_field = csrf_field.unwrap_or_default();

        let mut nav = String::new();
        if !self.nav.is_empty() {
            nav.push_str(&format!("<nav aria-label=\"{}\"><ul>", m(lang, "web-nav-label")));
            for link in &self.nav {
                let current = if self.path == link.href || self.path.starts_with(&format!("{}/", link.href)) {
                    " aria-current=\"page\""
                } else {
                    ""
                };
                nav.push_str(&format!("<li><a href=\"{}\"{current}>{}</a></li>", link.href, m(lang, link.label)));
            }
            nav.push_str("</ul></nav>");
        }
        let logout_form = if self.csrf.is_some() {
            format!(
                "<form class=\"logout\" method=\"post\" action=\"{logout}\">{csrf_field}\
                 <button type=\"submit\">{}</button></form>",
                m(lang, "web-logout")
            )
        } else {
            String::new()
        };
        let mut switch = format!(
            "<form class=\"language\" method=\"post\" action=\"/lang\">{csrf_field}\
             <input type=\"hidden\" name=\"back\" value=\"{}\"><fieldset><legend>{}</legend>",
            esc(&self.path),
            m(lang, "web-language")
        );
        for (tag, name) in super::lang::LANGUAGE_NAMES.iter().copied() {
            let pressed = if tag == lang { "true" } else { "false" };
            switch.push_str(&format!(
                "<button type=\"submit\" name=\"lang\" value=\"{tag}\" lang=\"{tag}\" aria-pressed=\"{pressed}\">{name}</button>"
            ));
        }
        switch.push_str("</fieldset></form>");

        format!(
            "<!doctype html>\n<html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} – {site}</title><link rel=\"stylesheet\" href=\"/assets/web.css\"></head>\
             <body><a class=\"skip-link\" href=\"#main\">{skip}</a>\
             <header class=\"site\"><p class=\"brand\"><a href=\"{home}\">{site}</a></p>{nav}{logout_form}{switch}</header>\
             <main id=\"main\" tabindex=\"-1\"><h1>{title}</h1>{body}</main>\
             <footer class=\"site\"><p>{footer}</p></footer></body></html>\n",
            skip = m(lang, "web-skip-link"),
            body = self.body,
            footer = m(lang, "web-footer"),
        )
    }
}

/// Headers for every page: nothing cached, nothing framed, no script, no referrer.
pub fn secure_page_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, Html(self.render())).into_response();
        secure_page_headers(&mut response);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_pages_run_right_to_left_and_text_is_escaped() {
        let html = Page::new(Area::Citizen, "ar", "<b>x</b>", "/citizen").render();
        assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"), "{html}");
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(!html.contains("<b>x</b>"));
        let html = Page::new(Area::Staff, "da", "x", "/staff").render();
        assert!(html.contains("dir=\"ltr\""));
        // every page offers every language
        for tag in crate::i18n::LANGUAGES {
            assert!(html.contains(&format!("value=\"{tag}\"")), "{tag}");
        }
    }

    #[test]
    fn the_current_page_is_marked_in_the_navigation() {
        let page = Page::new(Area::Citizen, "da", "x", "/citizen/letters/1")
            .logged_in(vec![NavLink { href: "/citizen/letters", label: "web-skip-link" }], "tok");
        let html = page.render();
        assert!(html.contains("href=\"/citizen/letters\" aria-current=\"page\""), "{html}");
        assert!(html.contains("name=\"csrf\" value=\"tok\""));
    }
}
