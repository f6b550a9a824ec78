//! The browser entry point: hydrate the server-rendered page. Everything else lives in `app`.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The loader starts this from the page's head, and a cached WASM can be ready while the
    // server is still sending the body: hydrating a half-parsed page finds nodes missing (and
    // then renders parts twice). So hydrate once the whole document is there.
    let document = leptos::prelude::document();
    if document.ready_state() == "loading" {
        let later = Closure::once_into_js(start);
        if document
            .add_event_listener_with_callback("DOMContentLoaded", later.unchecked_ref())
            .is_err()
        {
            start();
        }
    } else {
        start();
    }
}

fn start() {
    // `hydrate_lazy`, not `hydrate_body`: some routes are WASM chunks of their own in a split
    // build, loaded before the page they render is hydrated.
    leptos::mount::hydrate_lazy(app::App);
}
