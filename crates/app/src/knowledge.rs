//! The shop's knowledge base on disk: a folder of Markdown policy pages (`knowledge.dir`),
//! indexed at start and again whenever a page changes, so an edited policy is answered
//! from without a restart.

use crate::settings::SettingsError;
use deskhand_core::knowledge::{split_markdown, Knowledge, KnowledgeIndex, ScoredPassage};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, TryLockError};
use std::time::{Duration, Instant, SystemTime};

/// What the folder holds: each page's name and its passages' headings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSummary {
    pub file: String,
    pub headings: Vec<String>,
}

/// The folder's Markdown pages (`*.md`, in name order), read and indexed. A folder that
/// does not exist is an empty knowledge base: policy questions then go to a person.
pub fn load(dir: &Path) -> Result<(KnowledgeIndex, Vec<PageSummary>), SettingsError> {
    let mut passages = Vec::new();
    let mut pages = Vec::new();
    for path in pages_in(dir)? {
        let markdown = std::fs::read_to_string(&path).map_err(|source| SettingsError::Read {
            path: path.clone(),
            source,
        })?;
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let split = split_markdown(&file, &markdown);
        pages.push(PageSummary {
            file,
            headings: split.iter().map(|p| p.source.heading.clone()).collect(),
        });
        passages.extend(split);
    }
    Ok((KnowledgeIndex::build(passages), pages))
}

fn pages_in(dir: &Path) -> Result<Vec<PathBuf>, SettingsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SettingsError::Read {
                path: dir.to_owned(),
                source,
            })
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && p.is_file())
        .collect();
    paths.sort();
    Ok(paths)
}

/// Each page's name, size and modification time: when this changes, the index is rebuilt.
type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

fn fingerprint(dir: &Path) -> Fingerprint {
    pages_in(dir)
        .unwrap_or_default()
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let len = meta.as_ref().map_or(0, |m| m.len());
            let modified = meta.and_then(|m| m.modified().ok());
            (path, len, modified)
        })
        .collect()
}

/// The knowledge base of a folder, rebuilt when its pages change: checked at most every
/// `recheck` on a search (a few `stat` calls), never on a timer of its own.
#[derive(Debug)]
pub struct WatchedKnowledge {
    dir: PathBuf,
    recheck: Duration,
    index: RwLock<Arc<KnowledgeIndex>>,
    /// When the folder was last looked at, and what it held then.
    seen: Mutex<(Instant, Fingerprint)>,
}

impl WatchedKnowledge {
    pub fn open(dir: &Path, recheck: Duration) -> Result<Self, SettingsError> {
        let seen = fingerprint(dir);
        let (index, pages) = load(dir)?;
        if pages.is_empty() {
            tracing::warn!(
                dir = %dir.display(),
                "no knowledge pages (*.md) here: policy questions go to a person (knowledge.dir, relative to the working directory)"
            );
        }
        tracing::info!(
            dir = %dir.display(),
            pages = pages.len(),
            passages = index.passages().len(),
            "knowledge base indexed"
        );
        Ok(Self {
            dir: dir.to_owned(),
            recheck,
            index: RwLock::new(Arc::new(index)),
            seen: Mutex::new((Instant::now(), seen)),
        })
    }

    /// The index, rebuilt first if a page changed since the last look. One search at a
    /// time looks (the others keep searching the index as it is, never waiting on file
    /// reads); a page that cannot be read, or a folder that lost every page, keeps the
    /// previous index and says so in the log rather than emptying it.
    fn current(&self) -> Arc<KnowledgeIndex> {
        let looking = match self.seen.try_lock() {
            Ok(seen) => Some(seen),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(mut seen) = looking {
            if seen.0.elapsed() >= self.recheck {
                seen.0 = Instant::now();
                let now = fingerprint(&self.dir);
                if now != seen.1 {
                    self.reindex(&mut seen.1, now);
                }
            }
        }
        self.index.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn reindex(&self, seen: &mut Fingerprint, now: Fingerprint) {
        match load(&self.dir) {
            Ok((_, pages)) if pages.is_empty() && !seen.is_empty() => {
                tracing::warn!(dir = %self.dir.display(), "knowledge folder holds no pages any more; keeping the previous index");
            }
            Ok((index, pages)) => {
                tracing::info!(
                    pages = pages.len(),
                    passages = index.passages().len(),
                    "knowledge base re-indexed after a change"
                );
                *self.index.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(index);
                *seen = now;
            }
            Err(error) => {
                tracing::warn!(%error, "knowledge base changed but could not be read; keeping the previous index");
            }
        }
    }
}

impl Knowledge for WatchedKnowledge {
    fn search(&self, question: &str, limit: usize) -> Vec<ScoredPassage> {
        self.current().search(question, limit)
    }
    fn passages(&self) -> usize {
        self.current().passages().len()
    }
}
