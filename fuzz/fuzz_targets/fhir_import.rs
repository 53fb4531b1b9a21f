//! FHIR QuestionnaireResponse import: any JSON an integration sends is read against Tend's
//! instrument library and either scored exactly or refused with the field at fault.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tend::measures::fhir::import_response;
use tend::measures::library::Library;

fuzz_target!(|data: &[u8]| {
    let Ok(resource) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let library = Library::get().unwrap_or_else(|e| panic!("instrument library: {e}"));
    if let Ok(imported) = import_response(&resource, library) {
        // Whatever is accepted names one of Tend's own instruments.
        let debug = format!("{imported:?}");
        assert!(!debug.is_empty());
    }
});
