//! A bare Tauri window whose page reports its first script (wall clock, ns).

#[tauri::command]
fn page_loaded() {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    eprintln!("bench-mark first-script {ns}");
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![page_loaded])
        .run(tauri::generate_context!())
        .expect("baseline app");
}
