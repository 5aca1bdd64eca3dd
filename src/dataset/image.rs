//! `image` and `mmmu` (spec §3.5, §3.10): text prompts with images as base64 data URIs.
//!
//! In: image options or a JSON-lines export of MMMU. Out: text requests with `images`.
//! `image`: per request a drawn text length and image count (fixed, or uniform on
//! `[1, image_count]`); text = random ordinary tokens decoded; each image random noise or
//! white, at a preset, `HxW` or a random size, encoded as JPEG (quality 85) or PNG.
//! `mmmu`: `"Question: {question}\n\nAnswer: "` with `image_1` converted to RGB PNG; a seeded
//! sample of `num_prompts` rows when the file has more.
//!
//! Token accounting (runner has no model processor, so the vision part is an estimate):
//! `text_prompt_len` = the text rendered with the tokenizer's chat template and encoded (the
//! text alone when there is no template); `vision_prompt_len` = the `image_tokens` rule per
//! image (default one token per 28×28 px square, as Qwen2-VL); `prompt_len` = their sum. The
//! server's own prompt count, when its responses carry usage, is recorded beside it.

use std::path::Path;

use base64::Engine as _;
use image::{ExtendedColorType, ImageEncoder};
use rand::RngExt;
use rand::rngs::ChaCha8Rng;

use super::{Ctx, DatasetError, Stream, draw_tokens, measure, random_lens, shuffle};
use crate::requests::RequestSpec;
use crate::scenario::{ImageContent, ImageDataset, ImageFormat, ImageTokens, MmmuDataset};

/// An image size rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Fixed width and height.
    Fixed {
        /// Width in pixels.
        w: u32,
        /// Height in pixels.
        h: u32,
    },
    /// Width and height drawn independently and uniformly.
    Random {
        /// Smallest height.
        min_h: u32,
        /// Smallest width.
        min_w: u32,
        /// Largest height.
        max_h: u32,
        /// Largest width.
        max_w: u32,
    },
}

fn hxw(s: &str) -> Option<(u32, u32)> {
    let (h, w) = s.split_once('x')?;
    let (h, w) = (h.trim().parse().ok()?, w.trim().parse().ok()?);
    (h > 0 && w > 0).then_some((h, w))
}

/// Parse `4k`, `1080p`, `720p`, `360p`, `HxW` or `random:minHxminW-maxHxmaxW`.
pub fn parse_resolution(s: &str) -> Option<Resolution> {
    let fixed = |w, h| Some(Resolution::Fixed { w, h });
    match s {
        "4k" => fixed(3840, 2160),
        "1080p" => fixed(1920, 1080),
        "720p" => fixed(1280, 720),
        "360p" => fixed(640, 360),
        _ => {
            if let Some(range) = s.strip_prefix("random:") {
                let (lo, hi) = range.split_once('-')?;
                let ((min_h, min_w), (max_h, max_w)) = (hxw(lo)?, hxw(hi)?);
                (min_h <= max_h && min_w <= max_w).then_some(Resolution::Random {
                    min_h,
                    min_w,
                    max_h,
                    max_w,
                })
            } else {
                let (h, w) = hxw(s)?;
                fixed(w, h)
            }
        }
    }
}

impl Resolution {
    fn draw(self, rng: &mut ChaCha8Rng) -> (u32, u32) {
        match self {
            Resolution::Fixed { w, h } => (w, h),
            Resolution::Random {
                min_h,
                min_w,
                max_h,
                max_w,
            } => {
                let w = rng.random_range(min_w..=max_w);
                let h = rng.random_range(min_h..=max_h);
                (w, h)
            }
        }
    }
}

/// Prompt tokens counted for one `w`×`h` image.
pub fn vision_tokens(rule: ImageTokens, w: u32, h: u32) -> u32 {
    match rule {
        ImageTokens::PatchPx(p) => {
            let p = p.max(1);
            w.div_ceil(p) * h.div_ceil(p)
        }
        ImageTokens::PerImage(n) => n,
    }
}

/// Encode RGB8 pixels.
pub fn encode(rgb: &[u8], w: u32, h: u32, format: ImageFormat) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    match format {
        ImageFormat::Jpeg => image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .write_image(rgb, w, h, ExtendedColorType::Rgb8),
        ImageFormat::Png => image::codecs::png::PngEncoder::new(&mut out).write_image(
            rgb,
            w,
            h,
            ExtendedColorType::Rgb8,
        ),
    }
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// `data:image/<format>;base64,<bytes>`.
pub fn data_uri(bytes: &[u8], format: ImageFormat) -> String {
    let mime = match format {
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Png => "png",
    };
    format!(
        "data:image/{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// One generated image as a data URI.
pub fn generate(
    w: u32,
    h: u32,
    content: ImageContent,
    format: ImageFormat,
    rng: &mut ChaCha8Rng,
) -> Result<String, String> {
    let mut px = vec![255u8; (w as usize) * (h as usize) * 3];
    if content == ImageContent::Random {
        rng.fill(&mut px[..]);
    }
    Ok(data_uri(&encode(&px, w, h, format)?, format))
}

/// Text and vision lengths of a prompt with images of the given sizes.
fn account(
    text: &str,
    sizes: &[(u32, u32)],
    rule: ImageTokens,
    ctx: &Ctx<'_>,
) -> Result<(u32, u32), DatasetError> {
    let text_len = if ctx.tok.has_chat_template() {
        measure(
            ctx.tok,
            &ctx.tok.chat_prompt(text).map_err(|e| ctx.tok_err(e))?,
        )
    } else {
        measure(ctx.tok, text)
    };
    let vision = sizes.iter().map(|&(w, h)| vision_tokens(rule, w, h)).sum();
    Ok((text_len, vision))
}

fn request(text: String, images: Vec<String>, lens: (u32, u32), output_len: u32) -> RequestSpec {
    let (text_len, vision) = lens;
    RequestSpec {
        prompt: crate::requests::Prompt::Text(text),
        prompt_len: text_len + vision,
        measured_prompt_len: Some(text_len + vision),
        text_prompt_len: text_len,
        vision_prompt_len: vision,
        output_len,
        images,
        ..RequestSpec::default()
    }
}

/// Build `image`.
pub fn image(d: &ImageDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let res = parse_resolution(&d.resolution).ok_or_else(|| {
        ctx.invalid(format!(
            "resolution `{}` is not 4k, 1080p, 720p, 360p, HxW or random:minHxminW-maxHxmaxW",
            d.resolution
        ))
    })?;
    let n = d.num_prompts;
    let mut lrng = ctx.rng(Stream::Lengths);
    let input = random_lens(d.input_len, d.range_ratio, n, &mut lrng);
    let output = random_lens(d.output_len, d.range_ratio, n, &mut lrng);
    let mut irng = ctx.rng(Stream::Images);
    let mut trng = ctx.rng(Stream::Tokens);
    let alphabet = ctx.tok.sample_ids();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let count = if d.random_image_count {
            irng.random_range(1..=d.image_count.max(1))
        } else {
            d.image_count
        };
        let mut images = Vec::with_capacity(count as usize);
        let mut sizes = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let (w, h) = res.draw(&mut irng);
            images.push(
                generate(w, h, d.content, d.format, &mut irng)
                    .map_err(|e| ctx.invalid(format!("cannot encode an image: {e}")))?,
            );
            sizes.push((w, h));
        }
        let text = ctx
            .tok
            .decode(&draw_tokens(alphabet, input[i] as usize, &mut trng));
        let lens = account(&text, &sizes, d.image_tokens, ctx)?;
        out.push(request(text, images, lens, output[i]));
    }
    Ok(out)
}

/// The bytes of an MMMU `image_1` value: base64, a data URI, `{"bytes": …}` (base64 or a
/// byte list) or `{"path": …}` relative to the file.
fn image_bytes(v: &serde_json::Value, dir: &Path) -> Result<Vec<u8>, String> {
    let b64 = |s: &str| {
        let s = s.split_once(";base64,").map_or(s, |(_, b)| b);
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| format!("image_1 is not base64: {e}"))
    };
    match v {
        serde_json::Value::String(s) => b64(s),
        serde_json::Value::Object(o) => match (o.get("bytes"), o.get("path")) {
            (Some(serde_json::Value::String(s)), _) => b64(s),
            (Some(serde_json::Value::Array(a)), _) => Ok(a
                .iter()
                .filter_map(|b| b.as_u64())
                .map(|b| b as u8)
                .collect()),
            (_, Some(serde_json::Value::String(p))) => {
                std::fs::read(dir.join(p)).map_err(|e| format!("cannot read image {p}: {e}"))
            }
            _ => Err("image_1 needs `bytes` or `path`".into()),
        },
        _ => Err("image_1 is missing".into()),
    }
}

/// Build `mmmu`.
pub fn mmmu(d: &MmmuDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let path = Path::new(&d.path);
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut rows = ctx.jsonl(path, false)?;
    if rows.len() > d.num_prompts {
        shuffle(&mut rows, &mut ctx.rng(Stream::Shuffle));
        rows.truncate(d.num_prompts);
    }
    let mut out = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        let err = |reason: String| ctx.format(path, Some(line), reason);
        let question = row["question"]
            .as_str()
            .ok_or_else(|| err("no `question`".into()))?;
        let bytes = image_bytes(&row["image_1"], dir).map_err(err)?;
        let img = image::load_from_memory(&bytes)
            .map_err(|e| err(format!("image_1 is not a PNG or JPEG image: {e}")))?
            .to_rgb8();
        let (w, h) = img.dimensions();
        let png = encode(img.as_raw(), w, h, ImageFormat::Png).map_err(err)?;
        let text = format!("Question: {question}\n\nAnswer: ");
        let lens = account(&text, &[(w, h)], d.image_tokens, ctx)?;
        out.push(request(
            text,
            vec![data_uri(&png, ImageFormat::Png)],
            lens,
            d.output_len,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_parse_height_first() {
        assert_eq!(
            parse_resolution("720p"),
            Some(Resolution::Fixed { w: 1280, h: 720 })
        );
        assert_eq!(
            parse_resolution("1080x1920"),
            Some(Resolution::Fixed { w: 1920, h: 1080 })
        );
        assert_eq!(
            parse_resolution("random:10x20-30x40"),
            Some(Resolution::Random {
                min_h: 10,
                min_w: 20,
                max_h: 30,
                max_w: 40
            })
        );
        assert_eq!(parse_resolution("random:30x20-10x40"), None);
        assert_eq!(parse_resolution("big"), None);
        assert_eq!(vision_tokens(ImageTokens::PatchPx(28), 1920, 1080), 69 * 39);
    }
}
