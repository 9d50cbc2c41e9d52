//! Pagination of list and search results.

use crate::error::FieldError;
use serde::Serialize;

/// The largest page a client may ask for.
pub const MAX_PER_PAGE: u32 = 200;

/// A validated page request: 1-based page number and page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    per_page: u32,
}

impl PageRequest {
    /// Parses optional `page` and `per_page` values, defaulting to the first
    /// page of 50.
    pub fn parse(page: Option<u32>, per_page: Option<u32>) -> Result<Self, FieldError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(50);
        if page == 0 {
            return Err(FieldError::new("page", "must be 1 or more"));
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(FieldError::new(
                "per_page",
                format!("must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        Ok(Self { page, per_page })
    }

    /// The page number, from 1.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Items per page.
    pub fn per_page(&self) -> u32 {
        self.per_page
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: 50,
        }
    }
}

/// One page of results with the total count.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// This page's number, from 1.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Number of matching items across all pages.
    pub total: u64,
}

impl<T> Page<T> {
    /// Maps the items, keeping the paging.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }
}
