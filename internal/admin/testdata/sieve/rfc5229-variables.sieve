require ["variables", "fileinto", "subaddress", "envelope"];
if header :matches "List-Id" "*<*.*>*" {
    set :lower "list" "${2}";
    fileinto "lists.${list}";
    stop;
}
if envelope :detail "to" "*" {
    fileinto "detail";
}
