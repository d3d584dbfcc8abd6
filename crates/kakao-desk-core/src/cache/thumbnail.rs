//! A cached thumbnail: a small raster image of the type it claims, shown as a
//! `data:` URL so the picture appears with no network.

use thiserror::Error;

use crate::ErrorCode;

/// The largest thumbnail kept, in bytes. Kakao's thumbnails are 110×110
/// (a few kilobytes); anything near this size is not a thumbnail.
pub const MAX_THUMBNAIL_BYTES: usize = 256 * 1024;

/// Why a thumbnail was not kept.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ThumbnailError {
    /// Bigger than [`MAX_THUMBNAIL_BYTES`].
    #[error("thumbnail of {size} bytes is over the {MAX_THUMBNAIL_BYTES}-byte cap")]
    TooLarge {
        /// The refused size.
        size: usize,
    },
    /// Not JPEG, PNG, GIF or WebP (SVG is refused: it can carry script).
    #[error("thumbnail content type is not a supported raster image")]
    UnsupportedType,
    /// The bytes do not start like the declared image type.
    #[error("thumbnail bytes do not match their content type")]
    ContentMismatch,
}

impl ThumbnailError {
    /// The stable error code. The login goes on without the thumbnail, so
    /// this never reaches the user on its own.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Storage
    }
}

/// A small image, checked to be a raster image of its declared type and no
/// bigger than [`MAX_THUMBNAIL_BYTES`].
#[derive(Clone, PartialEq, Eq)]
pub struct Thumbnail {
    content_type: &'static str,
    bytes: Vec<u8>,
}

impl Thumbnail {
    /// Checks an image body: size cap first (so nothing big is inspected),
    /// then the content type (parameters such as `; charset` are ignored),
    /// then the leading magic bytes.
    ///
    /// # Errors
    /// The first check that fails.
    pub fn new(content_type: &str, bytes: Vec<u8>) -> Result<Self, ThumbnailError> {
        if bytes.len() > MAX_THUMBNAIL_BYTES {
            return Err(ThumbnailError::TooLarge { size: bytes.len() });
        }
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let (content_type, looks_right): (&'static str, fn(&[u8]) -> bool) = match essence.as_str()
        {
            "image/jpeg" | "image/jpg" => ("image/jpeg", |b| b.starts_with(&[0xFF, 0xD8, 0xFF])),
            "image/png" => ("image/png", |b| b.starts_with(b"\x89PNG\r\n\x1a\n")),
            "image/gif" => ("image/gif", |b| {
                b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")
            }),
            "image/webp" => ("image/webp", |b| {
                b.len() >= 12 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP"
            }),
            _ => return Err(ThumbnailError::UnsupportedType),
        };
        if !looks_right(&bytes) {
            return Err(ThumbnailError::ContentMismatch);
        }
        Ok(Self {
            content_type,
            bytes,
        })
    }

    /// The normalised content type (`image/jpeg`, `image/png`, `image/gif`,
    /// `image/webp`).
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The image bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The image as a `data:` URL (`data:image/png;base64,…`). Safe to put in
    /// an `<img src>`: only checked raster types get here.
    pub fn to_data_url(&self) -> String {
        use base64::Engine as _;
        format!(
            "data:{};base64,{}",
            self.content_type,
            base64::engine::general_purpose::STANDARD.encode(&self.bytes)
        )
    }
}

impl std::fmt::Debug for Thumbnail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thumbnail")
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nrest-of-image";
    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0rest-of-image";

    #[test]
    fn thumbnails_are_checked() {
        assert_eq!(
            Thumbnail::new("image/png", vec![0; MAX_THUMBNAIL_BYTES + 1]),
            Err(ThumbnailError::TooLarge {
                size: MAX_THUMBNAIL_BYTES + 1
            }),
            "over the cap is refused"
        );
        let mut at_cap = PNG.to_vec();
        at_cap.resize(MAX_THUMBNAIL_BYTES, 0);
        assert!(
            Thumbnail::new("image/png", at_cap).is_ok(),
            "exactly the cap is fine"
        );
        assert_eq!(
            Thumbnail::new("image/svg+xml", b"<svg/>".to_vec()),
            Err(ThumbnailError::UnsupportedType),
            "SVG can carry script"
        );
        assert_eq!(
            Thumbnail::new("text/html", b"<html>".to_vec()),
            Err(ThumbnailError::UnsupportedType)
        );
        assert_eq!(
            Thumbnail::new("image/png", JPEG.to_vec()),
            Err(ThumbnailError::ContentMismatch),
            "bytes must be the type they claim"
        );
        assert!(
            Thumbnail::new("IMAGE/GIF", b"GIF89a..".to_vec()).is_ok(),
            "types are case-insensitive"
        );
    }
}
