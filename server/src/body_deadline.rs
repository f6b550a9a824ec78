//! Deadlines for request bodies. hyper's header timeout ends once a request's head has arrived;
//! a client that then sends its body slowly, or never, would hold its connection (and one of the
//! process's slots) for as long as it liked. Here a body that declares a length under
//! [`BodyDeadline::whole_under`] (1 MB) must arrive whole within [`BodyDeadline::whole`] (30 s);
//! a larger or chunked one must keep up [`BodyDeadline::min_bytes`] (16 KB) in every
//! [`BodyDeadline::window`] (10 s), so a slow but honest 20 MB upload still goes through. A body
//! past its deadline ends in an error, its request is answered 408, and the connection closes.
//!
//! Written here rather than taken from tower-http: its `TimeoutBody` restarts its timer on
//! every frame, so a client sending a byte every few seconds is never cut off.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::BoxError;
use axum::body::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// How long a request body may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyDeadline {
    /// Bodies declared shorter than this must arrive whole within [`BodyDeadline::whole`].
    pub whole_under: u64,
    pub whole: Duration,
    /// Other bodies must bring at least this many bytes in every [`BodyDeadline::window`].
    pub min_bytes: u64,
    pub window: Duration,
}

impl Default for BodyDeadline {
    fn default() -> Self {
        BodyDeadline {
            whole_under: 1024 * 1024,
            whole: Duration::from_secs(30),
            min_bytes: 16 * 1024,
            window: Duration::from_secs(10),
        }
    }
}

/// A request body ran past its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct TooSlow;

impl BodyDeadline {
    /// `body` under its deadline, which runs from now; the flag turns true if it passes.
    pub fn apply<B>(&self, body: B) -> (Timed<B>, Arc<AtomicBool>)
    where
        B: Body<Data = Bytes> + Unpin,
    {
        let declared = body.size_hint().exact();
        let rule = match declared {
            Some(n) if n < self.whole_under => Rule::Whole,
            _ => Rule::Rate {
                min: self.min_bytes,
                window: self.window,
            },
        };
        let first = match rule {
            Rule::Whole => self.whole,
            Rule::Rate { window, .. } => window,
        };
        let expired = Arc::new(AtomicBool::new(false));
        let timed = Timed {
            inner: body,
            timer: Box::pin(tokio::time::sleep(first)),
            rule,
            got: 0,
            expired: expired.clone(),
        };
        (timed, expired)
    }
}

#[derive(Clone, Copy, Debug)]
enum Rule {
    Whole,
    Rate { min: u64, window: Duration },
}

/// A body with a deadline (see the module's note).
pub struct Timed<B> {
    inner: B,
    timer: Pin<Box<Sleep>>,
    rule: Rule,
    /// Bytes received in the current window.
    got: u64,
    expired: Arc<AtomicBool>,
}

impl<B> Body for Timed<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.expired.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(TooSlow.into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.got += data.len() as u64;
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        // Waiting on the client: is its time up?
        while this.timer.as_mut().poll(cx).is_ready() {
            match this.rule {
                Rule::Rate { min, window } if this.got >= min => {
                    this.got = 0;
                    this.timer.as_mut().reset(Instant::now() + window);
                }
                _ => {
                    this.expired.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(TooSlow.into())));
                }
            }
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use tokio::sync::mpsc;

    use super::*;

    /// A body fed by hand, declaring `length` if given.
    struct Fed {
        rx: mpsc::Receiver<Bytes>,
        length: Option<u64>,
    }

    impl Body for Fed {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            self.rx
                .poll_recv(cx)
                .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
        }
        fn size_hint(&self) -> SizeHint {
            self.length
                .map_or_else(SizeHint::default, SizeHint::with_exact)
        }
    }

    /// Collects `body`, sending `chunks` (bytes, then a pause) meanwhile; the bytes it got, or
    /// whether it ran out of time.
    async fn receive(length: Option<u64>, chunks: Vec<(usize, Duration)>) -> Result<usize, bool> {
        let (tx, rx) = mpsc::channel(64);
        let (timed, expired) = BodyDeadline::default().apply(Fed { rx, length });
        tokio::spawn(async move {
            for (n, pause) in chunks {
                if tx.send(Bytes::from(vec![b'x'; n])).await.is_err() {
                    return;
                }
                tokio::time::sleep(pause).await;
            }
        });
        let got = timed.collect().await.map(|c| c.to_bytes().len());
        got.map_err(|e| {
            assert!(e.is::<TooSlow>(), "{e}");
            expired.load(Ordering::Relaxed)
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_small_body_that_stops_is_cut_off_after_thirty_seconds() {
        // A few bytes a second is not enough: the whole body is due in 30 s.
        let trickle = vec![(10, Duration::from_secs(1)); 100];
        assert_eq!(receive(Some(1000), trickle).await, Err(true));
        let honest = vec![(500, Duration::from_secs(10)), (500, Duration::ZERO)];
        assert_eq!(receive(Some(1000), honest).await, Ok(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_steady_twenty_megabyte_upload_goes_through() {
        // 20 KB every 9 s (about 2 KB/s): slow, but above the floor.
        const MB20: usize = 20 * 1024 * 1024;
        let steady: Vec<_> = (0..MB20 / (20 * 1024))
            .map(|_| (20 * 1024, Duration::from_secs(9)))
            .collect();
        assert_eq!(receive(Some(MB20 as u64), steady).await, Ok(MB20));
    }

    #[tokio::test(start_paused = true)]
    async fn a_large_or_chunked_body_that_falls_below_the_floor_is_cut_off() {
        let stalls = vec![
            (64 * 1024, Duration::from_secs(25)),
            (64 * 1024, Duration::ZERO),
        ];
        assert_eq!(receive(Some(5 * 1024 * 1024), stalls).await, Err(true));
        let trickle = vec![(1024, Duration::from_secs(1)); 60];
        assert_eq!(receive(None, trickle).await, Err(true), "chunked");
    }

    #[tokio::test]
    async fn an_empty_body_is_untouched() {
        let (timed, expired) = BodyDeadline::default().apply(axum::body::Body::empty());
        assert!(timed.is_end_stream());
        assert_eq!(timed.collect().await.expect("empty").to_bytes().len(), 0);
        assert!(!expired.load(Ordering::Relaxed));
    }
}
