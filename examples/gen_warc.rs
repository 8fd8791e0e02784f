//! A web archive generator for memory and throughput tests: writes a WARC of any size, as
//! Common Crawl writes CC-NEWS (a request and a response record per page, each its own gzip
//! member), from the sample pages in `sample-corpus/web/pages`.
//!
//! ```sh
//! cargo run --release --example gen_warc -- --megabytes 1024 --out /tmp/news.warc.gz
//! geonews --index /tmp/warc-idx index /tmp/news.warc.gz
//! ```
//!
//! Every page is the Kyiv sample page's markup (navigation, ads, comments, JSON-LD) around an
//! article of paragraphs drawn at random from all the sample pages, with its own URL and
//! headline, so that pages are distinct articles. The output depends only on `--seed`.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use clap::Parser;
use flate2::Compression;
use flate2::write::GzEncoder;

#[path = "common/random.rs"]
mod random;
use random::SplitMix64;

const TEMPLATE: &str = "kyiv-grain-corridor.html";
const TEMPLATE_URL: &str =
    "https://www.meridiandispatch.com/world/europe/2024/10/08/kyiv-grain-corridor";
const TEMPLATE_HEADLINE: &str =
    "Ukraine's Black Sea corridor ships record grain volumes despite strikes on Odesa ports";
const BODY_START: &str = "itemprop=\"articleBody\">";
/// Paragraphs shorter than this are captions and labels, not article text.
const MIN_PARAGRAPH_CHARS: usize = 120;
const PARAGRAPHS_PER_PAGE: std::ops::RangeInclusive<usize> = 6..=12;

#[derive(Parser)]
#[command(about = "Generate a CC-NEWS-style web archive from geonews's sample pages")]
struct Args {
    /// Uncompressed size of the archive to write, in MB (10^6 bytes)
    #[arg(long, default_value_t = 100)]
    megabytes: u64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pages = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-corpus/web/pages");
    let template = fs::read_to_string(pages.join(TEMPLATE)).context("the template page")?;
    let (before, after) = split_template(&template)?;
    let paragraphs = paragraphs(&pages)?;
    ensure!(paragraphs.len() >= 20, "too few sample paragraphs");
    let mut random = SplitMix64(args.seed);
    let mut out = BufWriter::new(File::create(&args.out).context("the output file")?);
    let limit = args.megabytes * 1_000_000;
    let (mut written, mut page) = (0u64, 0u64);
    while written < limit {
        page += 1;
        let url = format!("https://www.meridiandispatch.com/world/2025/{page:07}/story");
        let chosen = random.in_range(PARAGRAPHS_PER_PAGE);
        let mut body = String::new();
        for _ in 0..chosen {
            body.push_str(&format!("\n        <p>{}</p>", random.pick(&paragraphs)));
        }
        let headline = format!(
            "Dispatch {page}: {}",
            first_words(&paragraphs[page as usize % paragraphs.len()])
        );
        let html = format!("{before}{body}\n{after}")
            .replace(TEMPLATE_URL, &url)
            .replace(TEMPLATE_HEADLINE, &headline);
        written += write_pair(&mut out, &url, page, html.as_bytes())?;
    }
    out.flush()?;
    eprintln!(
        "{page} pages, {written} bytes uncompressed in {}",
        args.out.display()
    );
    Ok(())
}

/// The template's markup before and after its article paragraphs.
fn split_template(template: &str) -> anyhow::Result<(&str, &str)> {
    let start = template
        .find(BODY_START)
        .context("the template's article body")?
        + BODY_START.len();
    let end = template[start..]
        .find("</article>")
        .and_then(|article_end| template[start..start + article_end].rfind("</p>"))
        .context("the template's last paragraph")?
        + start
        + "</p>".len();
    Ok((&template[..start], &template[end..]))
}

/// The text of every long `<p>` of the sample pages.
fn paragraphs(pages: &Path) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(pages)? {
        let bytes = fs::read(entry?.path())?;
        let text = String::from_utf8_lossy(&bytes);
        for piece in text.split("<p>").skip(1) {
            let Some((paragraph, _)) = piece.split_once("</p>") else {
                continue;
            };
            if paragraph.len() >= MIN_PARAGRAPH_CHARS && !paragraph.contains('<') {
                found.push(paragraph.trim().to_owned());
            }
        }
    }
    found.sort();
    Ok(found)
}

fn first_words(paragraph: &str) -> String {
    paragraph
        .split_whitespace()
        .take(8)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A request and a response record for one page, each its own gzip member; returns the
/// uncompressed bytes written.
fn write_pair(out: &mut impl Write, url: &str, page: u64, html: &[u8]) -> anyhow::Result<u64> {
    let date = format!(
        "2025-06-{:02}T{:02}:{:02}:00Z",
        1 + page % 28,
        page % 24,
        page % 60
    );
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: www.meridiandispatch.com\r\n\r\n",
        path_of(url)
    );
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        html.len()
    )
    .into_bytes();
    response.extend_from_slice(html);
    let mut written = 0;
    for (kind, content_type, block) in [
        (
            "request",
            "application/http; msgtype=request",
            request.as_bytes(),
        ),
        (
            "response",
            "application/http; msgtype=response",
            response.as_slice(),
        ),
    ] {
        let head = format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{page:012x}>\r\n\
             WARC-Date: {date}\r\nWARC-Target-URI: {url}\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\n\r\n",
            block.len()
        );
        let mut member = GzEncoder::new(Vec::new(), Compression::fast());
        member.write_all(head.as_bytes())?;
        member.write_all(block)?;
        member.write_all(b"\r\n\r\n")?;
        out.write_all(&member.finish()?)?;
        written += (head.len() + block.len() + 4) as u64;
    }
    Ok(written)
}

fn path_of(url: &str) -> &str {
    url.find("://")
        .and_then(|scheme_end| {
            url[scheme_end + 3..]
                .find('/')
                .map(|at| &url[scheme_end + 3 + at..])
        })
        .unwrap_or("/")
}
