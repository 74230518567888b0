# The host contract (issue 14): docs/api.md, DLV_REQUEST_MAP / DLV_EVENT_MAP in delivery.h, the
# request table and the event builders name the same requests and events.
# DLV_API_DOC=<file> checks another copy of the document.
dlv_unit_test(test_api_docs SOURCES unit/test_api_docs.c
    MODULES common config order print store net doctor runtime
    LIBS PkgConfig::LIBUV PkgConfig::CURL PkgConfig::SQLITE3 TIMEOUT 60)
