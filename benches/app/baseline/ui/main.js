window.__TAURI__.core.invoke("page_loaded");
