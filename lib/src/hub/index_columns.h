// The column lists both index engines read rows with (sqlite_index.cpp,
// pg_index.cpp): one schema, one order of columns.
#pragma once

#define kUploadCols                                                                         \
  "SELECT id,site,length,off,metadata,signature,package_hint,concat,parts,created,expires," \
  "state,committing_package FROM uploads"
#define kPackageCols                                                                        \
  "SELECT id,sender,size,blake2b,signature,created,upload_started,committed,expires,state," \
  "all_acked FROM packages"
