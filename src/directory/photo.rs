//! Profile photos: decoded, cropped to a square, resized and re-encoded as JPEG. Re-encoding
//! is what strips metadata (EXIF location, camera serials, thumbnails): only pixels survive.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::error::FieldError;

/// Largest upload accepted, in bytes.
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;
/// Side of the stored square, in pixels.
pub const SIDE: u32 = 400;
/// Largest width or height decoded (a guard against decompression bombs).
const MAX_DIMENSION: u32 = 8000;

/// A processed photo.
#[derive(Debug)]
pub struct Processed {
    /// JPEG bytes.
    pub jpeg: Vec<u8>,
    /// A content hash for caching.
    pub etag: String,
}

/// Turns uploaded bytes into the stored photo, or an error naming the `photo` field.
pub fn process(bytes: &[u8]) -> Result<Processed, FieldError> {
    if bytes.is_empty() {
        return Err(FieldError::new("photo", "Choose a photo to upload."));
    }
    if bytes.len() > MAX_UPLOAD {
        return Err(too_large());
    }
    let not_image = || FieldError::new("photo", "That file isn't a JPEG, PNG or WebP image.");
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| not_image())?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => {}
        _ => return Err(not_image()),
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => FieldError::new(
            "photo",
            format!("Please use a photo at most {MAX_DIMENSION} pixels wide and high."),
        ),
        _ => not_image(),
    })?;
    let square = image
        .resize_to_fill(SIDE, SIDE, image::imageops::FilterType::Lanczos3)
        .to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&square)
        .map_err(|_| not_image())?;
    let etag = hex::encode(&Sha256::digest(&jpeg)[..12]);
    Ok(Processed { jpeg, etag })
}

/// The error for uploads over [`MAX_UPLOAD`].
pub fn too_large() -> FieldError {
    FieldError::new("photo", "Please choose a photo under 5 MB.")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A PNG with a text chunk standing in for metadata.
    fn png_with_metadata() -> Vec<u8> {
        let img = image::RgbImage::from_fn(640, 480, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        // Insert a tEXt chunk after IHDR (8-byte signature + 25-byte IHDR chunk).
        let text = b"Comment\0secret-gps-51.5,-0.12";
        let mut chunk = Vec::new();
        chunk.extend_from_slice(&(text.len() as u32).to_be_bytes());
        chunk.extend_from_slice(b"tEXt");
        chunk.extend_from_slice(text);
        let crc = crc32(&chunk[4..]);
        chunk.extend_from_slice(&crc.to_be_bytes());
        out.splice(33..33, chunk);
        out
    }

    /// CRC-32 as PNG uses it.
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn photos_are_squared_and_stripped() {
        let input = png_with_metadata();
        assert!(input.windows(10).any(|w| w == b"secret-gps"));
        let out = process(&input).unwrap();
        assert!(!out.jpeg.windows(10).any(|w| w == b"secret-gps"));
        let decoded = image::load_from_memory(&out.jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (SIDE, SIDE));
        assert_eq!(out.jpeg[..2], [0xff, 0xd8]);
    }

    #[test]
    fn non_images_and_huge_files_are_refused() {
        assert_eq!(process(b"%PDF-1.7 hello").unwrap_err().field, "photo");
        assert!(process(&[]).is_err());
        let big = vec![0u8; MAX_UPLOAD + 1];
        assert!(process(&big).unwrap_err().message.contains("5 MB"));
    }
}
