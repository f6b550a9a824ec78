//! The browser entry point: hydrate the server-rendered page. Everything else lives in `app`.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`, not `hydrate_body`: some routes are WASM chunks of their own in a split
    // build, loaded before the page they render is hydrated.
    leptos::mount::hydrate_lazy(app::App);
}
