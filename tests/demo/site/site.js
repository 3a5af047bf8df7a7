// Kettle Press demo: queue haze('Name') calls made before the tracker has
// loaded (the tracker takes them over), and wire the buttons that send
// custom events. The tracker itself is /haze.js from the collector.
window.haze = window.haze || function () {
    (window.haze.q = window.haze.q || []).push(arguments);
};

document.addEventListener('click', function (e) {
    var b = e.target.closest('[data-event]');
    if (b) {
        window.haze(b.getAttribute('data-event'));
        var done = document.getElementById(b.getAttribute('data-done') || '');
        if (done) done.hidden = false;
    }
});

// The card designer (/designer): two views, one document. Moving between
// them changes the address with history.pushState, which haze.js reports
// as a pageview of the new path; the back button (popstate) is counted too.
(function () {
    var choose = document.getElementById('view-choose');
    var preview = document.getElementById('view-preview');
    if (!choose || !preview) return;
    var swatches = { Classic: '', Bold: 'b', Calm: 'c' };

    function render() {
        var onPreview = location.pathname === '/designer/preview';
        var t = (history.state && history.state.template) || 'Classic';
        choose.hidden = onPreview;
        preview.hidden = !onPreview;
        document.getElementById('preview-name').textContent = t;
        document.getElementById('preview-swatch').className = 'swatch ' + swatches[t];
        document.title = (onPreview ? 'Preview' : 'Card designer') + ' · Kettle Press';
    }

    choose.addEventListener('click', function (e) {
        var b = e.target.closest('[data-template]');
        if (!b) return;
        history.pushState({ template: b.getAttribute('data-template') }, '', '/designer/preview');
        render();
    });
    document.getElementById('back-to-templates').addEventListener('click', function () {
        history.pushState({}, '', '/designer');
        render();
    });
    window.addEventListener('popstate', render);
    render();
})();
