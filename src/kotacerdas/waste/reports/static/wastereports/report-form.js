/* The report form's "Use my location" button: fills latitude and longitude
 * from the phone's GPS and lets the map picker show the point. Without
 * geolocation the button stays hidden and the map still works. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("use-my-location");
    var picker = document.querySelector("[data-map-picker]");
    if (!button || !picker || !navigator.geolocation) return;
    var lat = document.getElementById(picker.dataset.latInput);
    var lng = document.getElementById(picker.dataset.lngInput);
    var status = document.getElementById("location-status");
    button.hidden = false;

    button.addEventListener("click", function () {
      status.textContent = button.dataset.labelWait;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lng.value = position.coords.longitude.toFixed(6);
          status.textContent = "";
          // The picker listens for change events to move its marker.
          lat.dispatchEvent(new Event("change"));
          lng.dispatchEvent(new Event("change"));
        },
        function () { status.textContent = button.dataset.labelFailed; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  });
})();
